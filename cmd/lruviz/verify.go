// SPDX-License-Identifier: GPL-2.0-only

package main

import (
	"context"
	"fmt"
	"io"
)

// cmdVerifyKernel is `lruviz verify-kernel`.
func cmdVerifyKernel(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fmt.Fprintln(stderr, "lruviz verify-kernel: not wired yet")
	return &exitError{2}
}
