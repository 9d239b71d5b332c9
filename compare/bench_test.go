// SPDX-License-Identifier: GPL-2.0-only

package compare

import (
	"context"
	"testing"

	"github.com/lruviz/lruviz/scenario"
	"github.com/lruviz/lruviz/scenarios"
)

// BenchmarkCompare: what the comparison costs against what it compares, in the same run: the
// reference runs the scenario under both profiles and derives both traces (compare.Run twice);
// compare is Compare on those two runs.
func BenchmarkCompare(b *testing.B) {
	for _, name := range []string{"contention", "load-100k"} {
		src, _ := scenarios.Source(name)
		run := func(profile string) Side {
			f, err := scenario.Parse(name+".lru", src)
			if err == nil {
				err = Prepare(f, profile)
			}
			if err != nil {
				b.Fatal(err)
			}
			s, err := Run(context.Background(), f)
			if err != nil {
				b.Fatal(err)
			}
			return s
		}
		b.Run(name+"/run-both", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				run("6.8")
				run("6.18")
			}
		})
		sa, sb := run("6.8"), run("6.18")
		b.Run(name+"/compare", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Compare(sa, sb); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
