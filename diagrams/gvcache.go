// SPDX-License-Identifier: GPL-2.0-only

package diagrams

import "github.com/lruviz/lruviz/internal/gvcache"

// go-graphviz has initialised by now (this package imports it), with its cache where gvcache
// put it: TMPDIR goes back to what it was.
func init() { gvcache.Restore() }
