// SPDX-License-Identifier: GPL-2.0-only

package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/lruviz/lruviz/tour"
	"github.com/lruviz/lruviz/tours"
	"github.com/lruviz/lruviz/trace"
	"github.com/lruviz/lruviz/web"
)

// cmdTour is `lruviz tour [FILE|NAME]`: without an argument, the bundled tours; with one, the
// tour checked and its stops where they are (FILE:LINE: SCENARIO @ POSITION [at NODE]: its
// first words), or its first error, FILE:LINE:COL.
func cmdTour(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		for _, n := range tours.Names() {
			src, _ := tours.Source(n)
			title, stops := "", 0
			if t, err := tour.Parse(n+".tour", src); err == nil {
				title, stops = t.Title, len(t.Stops)
			}
			fmt.Fprintf(stdout, "%s\t%s (%d stops)\n", n, title, stops)
		}
		return nil
	}
	if len(args) > 1 {
		return &usageError{"tour takes one FILE or NAME"}
	}
	arg, name := args[0], args[0]
	var src []byte
	var err error
	if b, ok := tours.Source(arg); ok && !strings.HasSuffix(arg, ".tour") {
		src, name = b, arg+".tour"
	} else if arg == "-" {
		name = "<stdin>"
		src, err = io.ReadAll(io.LimitReader(stdin, tour.MaxSize+1))
	} else {
		src, err = readTour(arg)
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return &exitError{2}
	}
	t, err := tour.Parse(name, src)
	if err == nil {
		var r *tour.Resolved
		r, err = tour.Resolve(t, func(s string) (*trace.Timeline, error) {
			tr, err := web.Bundled(s)
			if err != nil {
				return nil, err
			}
			return tr.Timeline, nil
		})
		if err == nil {
			title, stops := r.Title, fmt.Sprintf("%d stops", len(r.Stops))
			if title == "" {
				title = "(no title)"
			}
			if len(r.Stops) == 1 {
				stops = "1 stop"
			}
			fmt.Fprintf(stdout, "%s: %s, %s\n", name, title, stops)
			for _, st := range r.Stops {
				at := ""
				if st.Node != "" {
					at = " at " + st.Node
				}
				say := []rune(strings.Join(st.Say, " "))
				if len(say) > 72 {
					say = append(say[:72], '…')
				}
				q := ""
				if len(st.Ask) > 0 {
					q = " [question]"
				}
				fmt.Fprintf(stdout, "%s:%d: %s @%d%s: %s%s\n", name, st.Line, st.Scenario, st.Position, at, string(say), q)
			}
			return nil
		}
	}
	fmt.Fprintln(stderr, err)
	return &exitError{2}
}
