// SPDX-License-Identifier: GPL-2.0-only

package web

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/gorilla/websocket"
	"github.com/lruviz/lruviz/chart"
	"github.com/lruviz/lruviz/trace"
)

// The websocket protocol (docs/protocol.md): one Go type per message. The page's messages are
// decoded by their "type" into the type of that message; the server's are written from theirs.

// ProtocolVersion is the websocket protocol's version, sent in hello.
const ProtocolVersion = 3

// ---- from the page ------------------------------------------------------------------------

// inMsg is a decoded message from the page.
type inMsg interface{ kind() string }

type (
	// badMsg stands for a message that could not be decoded: What says why.
	badMsg  struct{ What string }
	loadMsg struct {
		Scenario *string `json:"scenario"`
		Script   *string `json:"script"`
	}
	playMsg struct {
		Speed *float64 `json:"speed"`
	}
	// pauseMsg: stop playing. With frames, Position is the position of the view the page
	// shows (it draws none of the views still on their way): the session stays there.
	pauseMsg struct {
		Position *int `json:"position"`
	}
	stepMsg struct {
		N *int `json:"n"`
	}
	seekMsg struct {
		Position *int `json:"position"`
	}
	breakMsg struct {
		Node string `json:"node"`
		On   *bool  `json:"on"`
	}
	breaksMsg struct {
		Nodes []string `json:"nodes"`
	}
	// nextMsg moves to just after the next event of a kind (What), or, with Back, to just
	// after the previous one before the current position.
	nextMsg struct {
		What string `json:"what"`
		Back bool   `json:"back"`
	}
	// optionsMsg: Batch sends runs of events as one events message; Frames sends a view
	// message (what the page shows, derived on the server) after every move instead of
	// events and states.
	optionsMsg struct {
		Batch  *bool `json:"batch"`
		Frames *bool `json:"frames"`
	}
	// ackMsg: the page has shown the view at Position. While playing with frames, the server
	// keeps at most playWindow views unacknowledged, so that a pause stops what the page shows
	// at once.
	ackMsg struct {
		Position int `json:"position"`
	}
	// logMsg asks for the descriptions of the events from From to To (positions).
	logMsg struct {
		From int `json:"from"`
		To   int `json:"to"`
	}
	timelineReq  struct{}
	presentMsg   struct{}
	unpresentMsg struct{}
	followMsg    struct {
		ID string `json:"id"`
	}
	detachMsg struct{}
	rejoinMsg struct{}
)

func (badMsg) kind() string       { return "!error" }
func (loadMsg) kind() string      { return "load" }
func (playMsg) kind() string      { return "play" }
func (pauseMsg) kind() string     { return "pause" }
func (stepMsg) kind() string      { return "step" }
func (seekMsg) kind() string      { return "seek" }
func (breakMsg) kind() string     { return "break" }
func (breaksMsg) kind() string    { return "breaks" }
func (nextMsg) kind() string      { return "next" }
func (optionsMsg) kind() string   { return "options" }
func (ackMsg) kind() string       { return "ack" }
func (logMsg) kind() string       { return "log" }
func (timelineReq) kind() string  { return "timeline" }
func (presentMsg) kind() string   { return "present" }
func (unpresentMsg) kind() string { return "unpresent" }
func (followMsg) kind() string    { return "follow" }
func (detachMsg) kind() string    { return "detach" }
func (rejoinMsg) kind() string    { return "rejoin" }

// decoders makes an empty message of each type the page may send.
var decoders = map[string]func() inMsg{
	"load": func() inMsg { return &loadMsg{} }, "play": func() inMsg { return &playMsg{} },
	"pause": func() inMsg { return &pauseMsg{} }, "step": func() inMsg { return &stepMsg{} },
	"seek": func() inMsg { return &seekMsg{} }, "break": func() inMsg { return &breakMsg{} },
	"breaks": func() inMsg { return &breaksMsg{} }, "next": func() inMsg { return &nextMsg{} },
	"options": func() inMsg { return &optionsMsg{} }, "ack": func() inMsg { return &ackMsg{} },
	"log": func() inMsg { return &logMsg{} }, "timeline": func() inMsg { return &timelineReq{} },
	"present": func() inMsg { return &presentMsg{} }, "unpresent": func() inMsg { return &unpresentMsg{} },
	"follow": func() inMsg { return &followMsg{} }, "detach": func() inMsg { return &detachMsg{} },
	"rejoin": func() inMsg { return &rejoinMsg{} },
}

// decodeMessage decodes one websocket message from the page into the type its "type" names.
// A message that is not a JSON object with a known type comes back as a badMsg saying why.
func decodeMessage(kind int, data []byte) inMsg {
	if kind != websocket.TextMessage {
		return badMsg{"messages must be JSON text"}
	}
	var env struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(data, &env); err != nil {
		return badMsg{"malformed message: " + err.Error()}
	}
	if env.Type == "" {
		return badMsg{`a message needs a "type"`}
	}
	mk, ok := decoders[env.Type]
	if !ok {
		return badMsg{fmt.Sprintf("unknown message type %q", env.Type)}
	}
	m := mk()
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(m); err != nil {
		return badMsg{fmt.Sprintf("malformed %s message: %v", env.Type, err)}
	}
	return m
}

// ---- to the page --------------------------------------------------------------------------

// errorMsg is a message a person can read; Line and Col place an error in a scenario's text.
type errorMsg struct {
	Type    string `json:"type"` // "error"
	Message string `json:"message"`
	Line    int    `json:"line,omitempty"`
	Col     int    `json:"col,omitempty"`
	// Request is the type of the message that caused it, if known.
	Request string `json:"request,omitempty"`
}

// helloMsg opens a connection: what the page shows is described here, once, so that the page
// retypes nothing: the nodes of the diagrams with their kernel code, the lock key and the
// mismatch catalogue.
type helloMsg struct {
	Type       string           `json:"type"` // "hello"
	Version    int              `json:"version"`
	Nodes      []string         `json:"nodes"`
	NodeInfo   []chart.Node     `json:"node_info"`
	Locks      []chart.KeyEntry `json:"locks"`
	Mismatches []chart.Mismatch `json:"mismatches"`
	// Glossary explains the words the page shows; Profiles say how the drawings read for
	// each kernel profile (titles and labels) and where its source is; Links are addresses
	// of lruviz's documents (the mismatch catalogue, the glossary).
	Glossary  []chart.Term      `json:"glossary"`
	Profiles  []chart.Profile   `json:"profiles"`
	Links     map[string]string `json:"links"`
	Scenarios []scenarioInfo    `json:"scenarios"`
	Default   string            `json:"default"`
	Limits    map[string]int    `json:"limits"`
	Tours     []tourInfo        `json:"tours"` // the lecture tours offered (tour.go)
}

// loadedMsg announces a scenario, at position 0: everything the page needs to draw it there,
// and no more, so that it is small however long the scenario. Its header has no list of
// operations (Ops counts them); a bundled scenario's text is not in it either: both come in
// the timeline message, with the scrubber's markers and the timeline's lanes, when asked for.
type loadedMsg struct {
	Type     string       `json:"type"`               // "loaded"
	Scenario string       `json:"scenario,omitempty"` // the bundled scenario's name; "" for a script
	Source   string       `json:"source,omitempty"`   // a script's text (a bundled scenario's: in timeline)
	CPUs     int          `json:"cpus"`
	Ops      int          `json:"ops"`
	Events   int          `json:"events"`
	Header   trace.Header `json:"header"`
	Failure  string       `json:"failure,omitempty"`
	FailLine int          `json:"failure_line,omitempty"`
	// Goals are the scenario's goals, checked on the trace; Groups the parallel groups a learner
	// can schedule (web/sched.go).
	Goals  []goalView  `json:"goals,omitempty"`
	Groups []groupView `json:"groups,omitempty"`
	// State is the trace.View at position 0, for a client that folds events itself (without
	// the frames option); Frame is what the page shows there.
	State *trace.View `json:"state,omitempty"`
	Frame *Frame      `json:"frame,omitempty"`
}

// viewMsg is what the page shows at a position (with the frames option), after every move.
type viewMsg struct {
	Type     string `json:"type"` // "view"
	Position int    `json:"position"`
	Frame    *Frame `json:"frame"`
}

// stateMsg is the whole state at a position, for a client that folds events itself.
type stateMsg struct {
	Type     string      `json:"type"` // "state"
	Position int         `json:"position"`
	State    *trace.View `json:"state"`
}

type playingMsg struct {
	Type     string  `json:"type"` // "playing"
	Speed    float64 `json:"speed"`
	Position int     `json:"position"`
}

type pausedMsg struct {
	Type     string `json:"type"` // "paused"
	Position int    `json:"position"`
	Reason   string `json:"reason"` // pause or breakpoint
	Node     string `json:"node"`
	CPU      int    `json:"cpu"`
}

type endedMsg struct {
	Type     string `json:"type"` // "ended"
	Position int    `json:"position"`
}

type breaksOut struct {
	Type  string   `json:"type"` // "breaks"
	Nodes []string `json:"nodes"`
}

// logOut answers a log request: Lines[i] describes the event that brings the view to
// position From+i+1.
type logOut struct {
	Type  string   `json:"type"` // "log"
	From  int      `json:"from"`
	Lines []string `json:"lines"`
}

type presentingMsg struct {
	Type string `json:"type"` // "presenting"
	ID   string `json:"id"`
	URL  string `json:"url"`
}

type followingMsg struct {
	Type string `json:"type"` // "following"
	ID   string `json:"id"`
	URL  string `json:"url"`
}

type detachedMsg struct {
	Type     string `json:"type"` // "detached"
	Position int    `json:"position"`
}

// plainMsg is a message with nothing but its type: unpresented, presenter_left.
type plainMsg struct {
	Type string `json:"type"`
}
