// SPDX-License-Identifier: GPL-2.0-only

package web

import (
	"strings"
	"testing"
)

// TestLoadUnknownTracePoint: a script loaded from the editor with an unknown trace point id in
// schedule= or interrupt at= is refused with an error at its line and column (which the editor
// marks), and nothing is loaded.
func TestLoadUnknownTracePoint(t *testing.T) {
	_, ts := newTestServer(t)
	w := dial(t, ts)
	w.until("loaded")
	for _, c := range []struct {
		text      string
		line, col int
		msg       string
	}{
		{"map lru_hash entries=4 cpus=2\nparallel schedule=0@lru.glbal,1* {\ncpu 0 update 1 1\ncpu 1 update 2 2\n}\n", 2, 21, `unknown lock "lru.glbal"`},
		{"map lru_hash entries=4 cpus=2\nparallel schedule=1,0@no_such_node {\ncpu 0 update 1 1\ncpu 1 update 2 2\n}\n", 2, 23, `unknown trace point "no_such_node"`},
		{"title t\nmap lru_hash entries=4 cpus=2\ninterrupt at=fn_bpf_lru_pop {\ncpu 0 update 1 1\ncpu 0 update 2 2\n}\n", 3, 14, `unknown trace point "fn_bpf_lru_pop"`},
	} {
		w.send(map[string]any{"type": "load", "script": c.text})
		m := w.recv()
		if m.Type != "error" || m.Line != c.line || m.Col != c.col || !strings.Contains(m.Message, c.msg) {
			t.Errorf("%q: %.300s; want an error at %d:%d: %s", c.text, m.raw, c.line, c.col, c.msg)
		}
	}
}
