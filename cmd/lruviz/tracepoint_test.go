// SPDX-License-Identifier: GPL-2.0-only

package main

import (
	"strings"
	"testing"
)

// TestRunUnknownTracePoint: an unknown trace point id in schedule= or interrupt at= is a syntax
// error at its FILE:LINE:COL (exit 2), before anything runs.
func TestRunUnknownTracePoint(t *testing.T) {
	for _, c := range []struct{ text, at, msg string }{
		{"map lru_hash entries=4 cpus=2\nparallel schedule=0@lru.glbal,1* {\ncpu 0 update 1 1\ncpu 1 update 2 2\n}\n", ":2:21: ", `unknown lock "lru.glbal"`},
		{"map lru_hash entries=4 cpus=2\nparallel schedule=1,0@no_such_node {\ncpu 0 update 1 1\ncpu 1 update 2 2\n}\n", ":2:23: ", `unknown trace point "no_such_node"`},
		{"map lru_hash entries=4 cpus=2\ninterrupt at=wait:cpu5.local {\ncpu 0 update 1 1\ncpu 0 update 2 2\n}\n", ":2:19: ", "lock cpu5.local: cpu 5 is outside 0..1"},
		{"map lru_hash entries=4 cpus=2\ninterrupt at=scan:global.pending {\ncpu 0 update 1 1\ncpu 0 update 2 2\n}\n", ":2:19: ", `unknown list "global.pending"`},
	} {
		f := writeFile(t, "u.lru", c.text)
		out, errs, code := lruviz(t, "", "run", f)
		if code != 2 || out != "" || !strings.HasPrefix(errs, f+c.at) || !strings.Contains(errs, c.msg) {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want exit 2 and %s%s... %s", c.text, code, out, errs, f, c.at, c.msg)
		}
	}
}
