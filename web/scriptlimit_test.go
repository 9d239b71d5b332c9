// SPDX-License-Identifier: GPL-2.0-only

package web

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
	"github.com/lruviz/lruviz/scenario"
)

// scriptOf pads head with lines of line up to exactly n bytes (the last line cut short, still
// a comment).
func scriptOf(head, line string, n int) string {
	var b strings.Builder
	b.WriteString(head)
	for b.Len()+len(line) <= n {
		b.WriteString(line)
	}
	if r := n - b.Len(); r > 0 {
		b.WriteString("#" + strings.Repeat(" ", r-1))
	}
	return b.String()
}

// TestScriptLimitOnTheScript: the script limit is counted on the script, not on its message. A
// script of exactly scenario.MaxSize bytes whose JSON is far longer, of many short lines of
// quotes and backslashes, loads; one as long of control characters (6 bytes each in JSON, the
// worst case) is refused by the script's own check, at its line and column, not by the
// message limit (close 1009); one byte more is refused with the script limit's error. The
// connection stays open through all of it.
func TestScriptLimitOnTheScript(t *testing.T) {
	_, ts := newTestServer(t)
	w := dial(t, ts)
	w.until("loaded")
	head := "map lru_hash entries=4 cpus=1\ncpu 0 update 1 1 expect 0\n"
	load := func(script string) msg {
		t.Helper()
		b, _ := json.Marshal(map[string]any{"type": "load", "script": script})
		if len(b) <= scenario.MaxSize {
			t.Fatalf("the message of %d bytes is not over the old limit", len(b))
		}
		t.Logf("a script of %d bytes: a message of %d bytes", len(script), len(b))
		if err := w.c.WriteMessage(websocket.TextMessage, b); err != nil {
			t.Fatal(err)
		}
		for {
			m := w.recv()
			if m.Type == "loaded" || m.Type == "error" {
				return m
			}
		}
	}

	lines := scriptOf(head, "#\"\\\n", scenario.MaxSize)
	if m := load(lines); m.Type != "loaded" || m.Events == 0 {
		t.Errorf("a script of %d bytes in short lines: %.200s", len(lines), m.raw)
	}

	ctl := head + strings.Repeat("\x01", scenario.MaxSize-len(head))
	if m := load(ctl); m.Type != "error" || m.Line != 3 || m.Col != 1 || !strings.Contains(m.Message, "control character U+0001") {
		t.Errorf("a script of %d bytes of control characters: %.200s", len(ctl), m.raw)
	}

	over := scriptOf(head, "#\"\\\n", scenario.MaxSize+1)
	if m := load(over); m.Type != "error" || m.Line != 1 || !strings.Contains(m.Message, "larger than 1 MiB") {
		t.Errorf("a script of %d bytes: %.200s", len(over), m.raw)
	}

	// Still connected.
	w.send(map[string]any{"type": "load", "scenario": "fast-path"})
	if m, _ := w.until("loaded"); m.Scenario != "fast-path" {
		t.Errorf("after the refusals: %.200s", m.raw)
	}
}
