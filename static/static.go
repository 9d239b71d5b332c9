// SPDX-License-Identifier: GPL-2.0-only

// Package static holds the explorer's JavaScript modules and style sheet, embedded in the
// binary: the page fetches nothing from anywhere else.
package static

import "embed"

// Files are the static files, served under /static/.
//
//go:embed *.js *.css
var Files embed.FS
