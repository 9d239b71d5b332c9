// SPDX-License-Identifier: GPL-2.0-only

package web

import (
	"testing"
	"time"

	wait "github.com/lruviz/lruviz/internal/patience"
)

// patience is how long a test waits for something that must happen (patience.Until).
func patience(t *testing.T) time.Time { return wait.Until(t) }
