// SPDX-License-Identifier: GPL-2.0-only

package web

import (
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// discardConn is a wsConn that keeps nothing; check, if set, sees every message.
type discardConn struct {
	check func(kind int, b []byte) error
}

func (d discardConn) WriteMessage(kind int, b []byte) error {
	if d.check != nil {
		return d.check(kind, b)
	}
	return nil
}
func (discardConn) WriteControl(int, []byte, time.Time) error { return nil }
func (discardConn) SetWriteDeadline(time.Time) error          { return nil }
func (discardConn) Close() error                              { return nil }

var (
	fuzzOnce sync.Once
	fuzzSrv  *Server
	fuzzErr  error
)

// FuzzDecodeMessage feeds any websocket message to the decoder and then to a session (over a
// connection that discards, but checks, what it is sent): nothing panics, a message the
// decoder refuses says why, every message the session writes is a JSON object with a type, and
// the session's position stays in its trace.
func FuzzDecodeMessage(f *testing.F) {
	for _, s := range []string{
		`{"type":"step","n":3}`, `{"type":"step","n":-1}`, `{"type":"seek","position":40}`, `{"type":"play","speed":0}`,
		`{"type":"play","speed":1e308}`, `{"type":"pause"}`, `{"type":"next","what":"lock"}`, `{"type":"break","node":"begin","on":true}`,
		`{"type":"breaks","nodes":["begin","x"]}`, `{"type":"load","scenario":"refill"}`, `{"type":"load","script":"map lru_hash entries=4 cpus=1\ncpu 0 update 1 1\n"}`,
		`{"type":"options","batch":true}`, `{"type":"present"}`, `{"type":"follow","id":"aaaaaaaaaaaaaaaa"}`, `{"type":"detach"}`, `{"type":"rejoin"}`,
		`{"type":"unpresent"}`, `{"type":"options","frames":true}`, `{"type":"ack","position":3}`, `{"type":"log","from":-5,"to":99999999}`,
		`{"type":"timeline"}`, `{"type":"next","what":"node","back":true}`,
		`{"type":"compare","scenario":"refill","profiles":["6.18","6.8"]}`, `{"type":"compare","script":"map lru_hash entries=2 cpus=1\ncpu 0 update 1 1\n"}`,
		`{"type":"compare_step","op":-1}`, `{"type":"compare_seek","point":7}`, `{"type":"tour","name":"the-chart","stop":12}`,
		`{"type":"tour_stop","stop":3}`, `{"type":"tour_end"}`, `{"type":`, `[]`, `{"type":"!error"}`, `{"type":"step","n":9223372036854775807}`, `{"type":"seek","position":-9223372036854775808}`,
		`{"type":"choose","line":9}`, `{"type":"choose","line":9,"cpu":1,"run":true}`, `{"type":"choose","line":9,"back":true}`,
		`{"type":"choose","line":9,"schedule":"0x3,1*"}`, `{"type":"choose","line":9,"schedule":"0 #"}`, `{"type":"choose","line":-1,"cpu":-7}`,
		`{"type":"quiz","on":true}`, `{"type":"quiz","on":false}`, `{"type":"answer","q":0,"choice":"common_lru_check"}`, `{"type":"answer","q":-1}`,
	} {
		f.Add(false, []byte(s))
	}
	f.Add(true, []byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, binary bool, data []byte) {
		fuzzOnce.Do(func() { fuzzSrv, fuzzErr = New(Options{Logf: func(string, ...any) {}}) })
		if fuzzErr != nil {
			t.Fatal(fuzzErr)
		}
		kind := websocket.TextMessage
		if binary {
			kind = websocket.BinaryMessage
		}
		m := decodeMessage(kind, data)
		if bad, ok := m.(badMsg); ok && bad.What == "" {
			t.Fatalf("decoded %q to %+v", data, m)
		}
		check := func(kind int, b []byte) error {
			var v struct {
				Type string `json:"type"`
			}
			if kind != websocket.TextMessage || json.Unmarshal(b, &v) != nil || v.Type == "" {
				return errors.New("the session wrote something that is not a message: " + string(b))
			}
			return nil
		}
		ss := fuzzSrv.newSession(discardConn{check: check})
		defer ss.leave()
		name := "fast-path"
		if len(data)%3 == 0 {
			name = "challenge-steal" // a parallel group, for scheduler mode
		}
		tr, err := Bundled(name)
		if err != nil {
			t.Fatal(err)
		}
		ss.setTrace(tr, nil)
		ss.frames = len(data)%2 == 0 // both forms of the protocol
		ss.cur.Seek(min(20, ss.cur.Len()))
		if err := ss.handle(m); err != nil {
			t.Fatalf("%q: %v", data, err)
		}
		for i := 0; i < 3 && ss.playing; i++ {
			if err := ss.advance(burst); err != nil {
				t.Fatalf("%q: playing: %v", data, err)
			}
		}
		if ss.cur != nil {
			if p := ss.cur.Position(); p < 0 || p > ss.cur.Len() {
				t.Fatalf("%q: position %d outside 0..%d", data, p, ss.cur.Len())
			}
			if st := ss.cur.State(); st.Position() != ss.cur.Position() {
				t.Fatalf("%q: state at %d, cursor at %d", data, st.Position(), ss.cur.Position())
			}
		}
	})
}
