// SPDX-License-Identifier: GPL-2.0-only

package web

import (
	"encoding/json"

	"github.com/gorilla/websocket"

	"github.com/lruviz/lruviz/trace"
)

// Marker is a point of interest on the scrubber, at the position just after its event.
type Marker struct {
	Pos   int    `json:"pos"`
	Kind  string `json:"kind"` // op (an operation begins), result (one ends), wait (a spin), failed (a lock failed), say (narration)
	CPU   int    `json:"cpu"`
	Op    int    `json:"op"`
	Label string `json:"label"`
}

// Span is an operation on the timeline: from the position after its op_begin to the position
// after its op_end (or the end of the trace).
type Span struct {
	CPU    int    `json:"cpu"`
	Op     int    `json:"op"`
	From   int    `json:"from"`
	To     int    `json:"to"`
	Name   string `json:"name"`
	Result string `json:"result,omitempty"`
	Depth  int    `json:"depth,omitempty"`
}

// timelineMsg carries the scrubber's markers and the timeline's lanes: sent when the page asks
// for them, after loaded, so that the first message stays small.
type timelineMsg struct {
	Type string `json:"type"` // "timeline"
	// Ops are the scenario's operations (the trace header's), and Source a bundled scenario's
	// text: what the loaded message leaves out.
	Ops       []trace.OpInfo `json:"ops"`
	Source    string         `json:"source,omitempty"`
	Markers   []Marker       `json:"markers"`
	Spans     []Span         `json:"spans"`
	Holds     []trace.Hold   `json:"holds"`
	Truncated bool           `json:"truncated,omitempty"`
}

// timelineJSON is the trace's timeline message, made from its Timeline and encoded once.
func (t *Trace) timelineJSON() []byte {
	t.timelineOnce.Do(func() {
		t.timeline, _ = json.Marshal(t.timelineData())
	})
	return t.timeline
}

// timelineDeflated is the timeline message prepared for connections that negotiated
// permessage-deflate (a browser does): compressed once for every page that asks (load-100k's
// 3.1 MB go out as about 530 KB), so that a class loading a long lesson at once does not
// crowd the server with copies of it.
func (t *Trace) timelineDeflated() *websocket.PreparedMessage {
	t.timelineZOnce.Do(func() {
		t.timelineZ, _ = websocket.NewPreparedMessage(websocket.TextMessage, t.timelineJSON())
	})
	return t.timelineZ
}

// timelineData is the trace's timeline message, made from its Timeline once.
func (t *Trace) timelineData() *timelineMsg {
	t.lanesOnce.Do(func() {
		tl := t.Timeline
		msg := timelineMsg{Type: "timeline", Ops: t.Header.Ops, Markers: []Marker{}, Spans: []Span{}, Holds: []trace.Hold{}}
		if msg.Ops == nil {
			msg.Ops = []trace.OpInfo{}
		}
		if t.Name != "" {
			msg.Source = t.Source
		}
		counts := map[string]int{}
		mark := func(m Marker) {
			if counts[m.Kind] >= maxMarkers {
				msg.Truncated = true
				return
			}
			counts[m.Kind]++
			msg.Markers = append(msg.Markers, m)
		}
		for _, o := range tl.Ops {
			if o.Begin < 0 {
				continue
			}
			label := o.Name
			if o.Op < len(t.Header.Ops) {
				info := t.Header.Ops[o.Op]
				label = info.Text
				if len(info.Say) > 0 {
					mark(Marker{Pos: o.Begin, Kind: "say", CPU: o.CPU, Op: o.Op, Label: info.Say[0]})
				}
			}
			mark(Marker{Pos: o.Begin, Kind: "op", CPU: o.CPU, Op: o.Op, Label: label})
			to := o.End
			if to < 0 {
				to = tl.Len()
			} else {
				mark(Marker{Pos: o.End, Kind: "result", CPU: o.CPU, Op: o.Op, Label: o.Result})
			}
			if len(msg.Spans) < maxSpans {
				msg.Spans = append(msg.Spans, Span{CPU: o.CPU, Op: o.Op, From: o.Begin, To: to, Name: o.Name, Result: o.Result, Depth: o.Depth})
			} else {
				msg.Truncated = true
			}
		}
		for _, h := range tl.Holds {
			switch h.Kind {
			case trace.Waited:
				mark(Marker{Pos: int(h.From), Kind: "wait", CPU: int(h.CPU), Op: int(h.Op), Label: "spins on " + h.Lock()})
			case trace.Failed:
				mark(Marker{Pos: int(h.From), Kind: "failed", CPU: int(h.CPU), Op: int(h.Op), Label: h.Lock() + " failed: " + h.Result()})
			}
			if len(msg.Holds) < maxSpans {
				msg.Holds = append(msg.Holds, h)
			} else {
				msg.Truncated = true
			}
		}
		t.lanes = &msg
	})
	return t.lanes
}
