// SPDX-License-Identifier: GPL-2.0-only

package web

import (
	"bytes"
	"context"
	"encoding/json"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/lruviz/lruviz/diagrams"
)

// benchSession is a session over the load-100k scenario's trace (about 100,000 events) that
// writes to a connection that discards.
func benchSession(b testing.TB) *session {
	b.Helper()
	srv, err := New(Options{Logf: b.Logf})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { srv.Shutdown(context.Background()) })
	tr, err := Bundled("load-100k")
	if err != nil {
		b.Fatal(err)
	}
	tr.encoded() // once per process, shared: not what a session costs
	ss := srv.newSession(discardConn{})
	ss.setTrace(tr, nil)
	return ss
}

// BenchmarkReplayThroughput plays the whole trace at full speed through a session, the way
// the writer goroutine does (bursts of 256 events), as event messages or as runs of events.
// events/s is the figure.
func BenchmarkReplayThroughput(b *testing.B) {
	for _, batch := range []bool{false, true} {
		name := "event"
		if batch {
			name = "events"
		}
		b.Run(name, func(b *testing.B) {
			ss := benchSession(b)
			ss.batch = batch
			n := 0
			b.ReportAllocs()
			for b.Loop() {
				ss.cur.Seek(0)
				ss.playing = true
				for ss.playing {
					if err := ss.advance(burst); err != nil {
						b.Fatal(err)
					}
				}
				n += ss.cur.Len()
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// BenchmarkSeek seeks to random positions and sends the state there (the View, the paths and
// the JSON).
func BenchmarkSeek(b *testing.B) {
	ss := benchSession(b)
	r := rand.New(rand.NewPCG(1, 2))
	b.ReportAllocs()
	for b.Loop() {
		if err := ss.seek(r.IntN(ss.cur.Len() + 1)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStepBack steps back one event at a time from the end, as holding the back key does.
func BenchmarkStepBack(b *testing.B) {
	ss := benchSession(b)
	ss.cur.Seek(ss.cur.Len())
	b.ReportAllocs()
	for b.Loop() {
		if ss.cur.Position() == 0 {
			ss.cur.Seek(ss.cur.Len())
		}
		if err := ss.seek(ss.cur.Position() - 1); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStartup measures what a server's start costs besides go-graphviz's WebAssembly
// compile (which happens once per process, at package init: see GODEBUG=inittrace=1): laying
// out and drawing the four diagrams with Graphviz, and rendering the first page.
func BenchmarkStartup(b *testing.B) {
	b.Run("diagrams", func(b *testing.B) {
		// The diagrams package caches a rendering by its DOT: a comment attribute that
		// changes each time defeats the cache.
		b.ReportAllocs()
		n := 0
		for b.Loop() {
			for _, name := range diagrams.Names() {
				src, err := diagrams.Source(name)
				if err != nil {
					b.Fatal(err)
				}
				n++
				src = bytes.Replace(src, []byte("{"), []byte("{ comment=\"bench "+strconv.Itoa(n)+"\";"), 1)
				d, err := diagrams.Parse(name+".dot", src)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := diagrams.RenderDiagram(d); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("page", func(b *testing.B) {
		srv, err := New(Options{Logf: b.Logf})
		if err != nil {
			b.Fatal(err)
		}
		defer srv.Shutdown(context.Background())
		var buf bytes.Buffer
		b.ReportAllocs()
		for b.Loop() {
			buf.Reset()
			if err := Page(srv.views, scenarioList(), srv.opts.Scenario, "").Render(context.Background(), &buf); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(buf.Len()), "bytes")
	})
	b.Run("load-100k", func(b *testing.B) {
		// Computing the long scenario's trace: what the first session to load it waits for.
		src := []byte(scenarioSource(b, "load-100k"))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Compute("load-100k.lru", src); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func scenarioSource(b *testing.B, name string) string {
	b.Helper()
	tr, err := Bundled(name)
	if err != nil {
		b.Fatal(err)
	}
	return tr.Source
}

// BenchmarkFrame builds the view of load-100k as a session does: after a run of a play (the
// cursor moves burst events ahead) and after a seek to a random position. It is what a page's
// every move costs the server.
func BenchmarkFrame(b *testing.B) {
	for _, mode := range []string{"play", "seek"} {
		b.Run(mode, func(b *testing.B) {
			ss := benchSession(b)
			ss.frames = true
			r := rand.New(rand.NewPCG(5, 6))
			b.ReportAllocs()
			bytes := 0
			for b.Loop() {
				if mode == "seek" || ss.cur.Position()+frameBurst > ss.cur.Len() {
					// As a session seeks: the view says what changed since the page's last,
					// made in the session's own buffer.
					ss.cur.Seek(r.IntN(ss.cur.Len()))
					bytes += len(ss.view(true))
					continue
				}
				ss.cur.Step(frameBurst)
				bytes += len(ss.viewJSON())
			}
			b.ReportMetric(float64(bytes)/float64(b.N), "bytes/view")
		})
	}
}

// BenchmarkFrameEncode compares the frame's hand-written encoder with encoding/json on the
// same frame (load-100k, mid-trace), in the same run.
func BenchmarkFrameEncode(b *testing.B) {
	ss := benchSession(b)
	ss.cur.Seek(ss.cur.Len() / 2)
	f := ss.fm.make(ss.cur.State())
	type plainFrame Frame
	b.Run("hand", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		for b.Loop() {
			buf = f.appendJSON(buf[:0])
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			json.Marshal((*plainFrame)(f))
		}
	})
}
