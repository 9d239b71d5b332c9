// SPDX-License-Identifier: GPL-2.0-only

// Package patience says how long a test waits for something that must happen.
package patience

import (
	"testing"
	"time"
)

// Until is how long a test waits for something that must happen: until shortly before go
// test's own -timeout, never a figure of its own, so that a busy machine slows a test down
// without failing it. A test run with -timeout 0 waits as long as it takes.
func Until(t *testing.T) time.Time {
	d, ok := t.Deadline()
	if !ok {
		return time.Now().Add(24 * time.Hour)
	}
	// Leave time to report the failure (and screenshots) before go test's own panic.
	if m := time.Until(d) / 10; m < 30*time.Second {
		return d.Add(-m)
	}
	return d.Add(-30 * time.Second)
}
