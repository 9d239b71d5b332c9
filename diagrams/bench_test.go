// SPDX-License-Identifier: GPL-2.0-only

package diagrams

import "testing"

// BenchmarkRenderCold renders update.dot without the cache: parsing, Graphviz's layout and
// SVG post-processing. (Graphviz's WebAssembly is compiled when its package initialises,
// before any benchmark runs; GODEBUG=inittrace=1 shows that cost.)
func BenchmarkRenderCold(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		d, err := Load(Update)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := render(d); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRenderWarm gets the cached rendering of update.dot and its SVG.
func BenchmarkRenderWarm(b *testing.B) {
	if _, err := Default(); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		r, err := Default()
		if err != nil {
			b.Fatal(err)
		}
		_ = r.SVG()
	}
}

// BenchmarkParse parses update.dot.
func BenchmarkParse(b *testing.B) {
	src, err := Source(Update)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		if _, err := Parse("update.dot", src); err != nil {
			b.Fatal(err)
		}
	}
}

// benchExport exports the bundled load-100k (about 100,000 events) with opt, reporting the
// events drawn a second: the Deriver, the projection and the drawing, not the engine.
func benchExport(b *testing.B, opt ExportOptions) {
	r, err := Default()
	if err != nil {
		b.Fatal(err)
	}
	h, evs := scenarioTrace(b, "load-100k")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Export(r, h, evs, opt); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(evs))*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkExportWholeRun draws the whole run: counts per node, edge and lock.
func BenchmarkExportWholeRun(b *testing.B) { benchExport(b, ExportOptions{Step: -1}) }

// BenchmarkExportStep draws the state in the middle of the run.
func BenchmarkExportStep(b *testing.B) { benchExport(b, ExportOptions{Step: 50000}) }

// BenchmarkExportAnimate draws the replay of the first steps over the whole run's heat.
func BenchmarkExportAnimate(b *testing.B) { benchExport(b, ExportOptions{Step: -1, Animate: true}) }
