// SPDX-License-Identifier: GPL-2.0-only

package trace

// The vocabulary the package's own tests use: the chart's ids and the engine's reasons are
// registered by those packages, which these tests cannot import. (Declared in the first test
// file, so that the test files' variables that make events find them.)
var _ = func() bool {
	for _, n := range []string{"begin", "local_freelist_check", "fn_htab_lru_map_update_elem5", "fn_x", "ret", "steal", "x"} {
		Intern(n)
	}
	for _, r := range []string{"M1: a label", "M9: test", jsonTestReason} { // jsonTestReason: in jsonl_test.go
		RegisterReason(r)
	}
	return true
}()

// mustEvents makes the events of fs (MustEvent each).
func mustEvents(fs []Fields) []Event {
	out := make([]Event, len(fs))
	for i, f := range fs {
		out[i] = MustEvent(f)
	}
	return out
}

// jsonTestReason is a reason with every character JSON escapes.
const jsonTestReason = "M4: \"quoted\"\n\\ é \u2028 \x01"
