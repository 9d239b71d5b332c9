// SPDX-License-Identifier: GPL-2.0-only

package web

import (
	"bytes"
	"context"
	"runtime"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// pageConn stands for a page on the other end of a session's connection: it acknowledges each
// view one display frame (16 ms) after it is written, plays again from the start at the end,
// and reports each paused message written.
type pageConn struct {
	discardConn
	ss     *session
	start  int // where it plays from, again at the end
	paused chan struct{}
	views  *atomic.Int64 // views written, of all the pages
}

func (p *pageConn) WriteMessage(kind int, data []byte) error {
	push := func(m inMsg) {
		select {
		case p.ss.in <- m:
		case <-p.ss.done:
		}
	}
	switch {
	case bytes.HasPrefix(data, []byte(`{"type":"view","position":`)):
		rest := data[len(`{"type":"view","position":`):]
		pos, _ := strconv.Atoi(string(rest[:bytes.IndexByte(rest, ',')]))
		p.views.Add(1)
		time.AfterFunc(16*time.Millisecond, func() { push(&ackMsg{Position: pos}) })
	case bytes.HasPrefix(data, []byte(`{"type":"ended"`)):
		start, speed := p.start, 0.0
		go func() { push(&seekMsg{Position: &start}); push(&playMsg{Speed: &speed}) }()
	case bytes.HasPrefix(data, []byte(`{"type":"paused"`)):
		p.paused <- struct{}{}
	}
	return nil
}

// BenchmarkPauseWhilePlaying: 40 sessions play load-100k as fast as their pages take views
// (each acknowledged 16 ms after it is written), each from a place of its own (so that none
// gets the views another made): more work than two cores do. One of them gets a pause. The
// figures: the time from the pause message queued for the session to its paused message
// written (p50, p99), what the server adds to a pause when it is busy (the reader and the
// network left out); and the views made a second. The sessions take turns to make their views
// (one turn a core, as lruviz serve has it), against a reference in which they need none.
func BenchmarkPauseWhilePlaying(b *testing.B) {
	for _, c := range []struct {
		name  string
		turns int
	}{{"turns", runtime.GOMAXPROCS(0)}, {"unlimited", 1 << 16}} {
		b.Run(c.name, func(b *testing.B) {
			srv, err := New(Options{Logf: b.Logf})
			if err != nil {
				b.Fatal(err)
			}
			defer srv.Shutdown(context.Background())
			srv.turns = make(chan struct{}, c.turns)
			const players = 40
			conns := make([]*pageConn, players)
			var views atomic.Int64
			load, speed := "load-100k", 0.0
			for i := range conns {
				p := &pageConn{paused: make(chan struct{}, 1), start: i * 97, views: &views}
				p.ss = srv.newSession(p)
				p.ss.frames = true
				conns[i] = p
				go p.ss.run()
				p.ss.in <- &loadMsg{Scenario: &load}
				p.ss.in <- &seekMsg{Position: &p.start}
				p.ss.in <- &playMsg{Speed: &speed}
			}
			defer func() {
				for _, p := range conns {
					close(p.ss.done)
				}
			}()
			time.Sleep(time.Second) // all of them playing
			// What they make in a second: the turns must not cost throughput.
			views.Store(0)
			t0 := time.Now()
			time.Sleep(time.Second)
			perSec := float64(views.Load()) / time.Since(t0).Seconds()
			var took []time.Duration
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				p := conns[i%players]
				i++
				t0 := time.Now()
				p.ss.in <- &pauseMsg{}
				<-p.paused
				took = append(took, time.Since(t0))
				p.ss.in <- &playMsg{Speed: &speed}
			}
			slices.Sort(took)
			b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(took[len(took)*99/100].Microseconds())/1000, "p99-ms")
			b.ReportMetric(perSec, "views/s")
		})
	}
}
