// SPDX-License-Identifier: GPL-2.0-only

// Command loadtest drives `lruviz serve` with many websocket clients at once and reports what
// they saw: events a second, the latency from each command to the last message it causes, and
// the server's peak memory. `make load` runs it.
//
// It starts the server as a child process on loopback (so that its memory is its own), then:
//
//  1. one client alone plays the scenario at full speed, for the throughput of one connection;
//  2. N clients at once (default 200) each load the scenario, play it at full speed to the end,
//     seek to random positions and step back several times.
//
// Latency is from sending a command to the arrival of the last message it causes: loaded for a
// load, the view (with --frames, as the page asks) or state for a seek or a backward step,
// ended for play (reported apart: it is the whole replay), playing for play's first answer,
// paused for a pause sent while playing at full speed. With --frames each client acknowledges
// every view one display frame (16 ms) later, as a page does, and pauses as a page does: at the
// view it acknowledged last (the views still on their way are dropped), which the paused message
// must name, with no view after it. Clients offer permessage-deflate, as browsers do, and
// after loading ask for the timeline, as the page does once it has drawn position 0 (reported
// apart too: the page is usable before it comes). A client reads each message's head (its
// type and position come first) and skips the rest, so that what is measured is the server.
// Everything is bounded: a deadline (--timeout) stops the run. The last line sums it up:
//
//	clients=N ramp=D p50_ms=X p99_ms=Y peak_mb=Z events_per_s=E
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

func main() {
	server := flag.String("server", "", "the lruviz binary to start (default: build ./cmd/lruviz)")
	clients := flag.Int("clients", 200, "clients at once")
	scn := flag.String("scenario", "load-100k", "the bundled scenario each client loads")
	seeks := flag.Int("seeks", 20, "random seeks per client")
	backs := flag.Int("backs", 10, "steps back per client")
	timeout := flag.Duration("timeout", 120*time.Second, "stop the whole run after this")
	batch := flag.Bool("batch", true, `without --frames, ask for runs of events as one message ({"type":"options","batch":true})`)
	frames := flag.Bool("frames", true, "connect as the page does (/ws?frames=1): a view after every move, acknowledged while playing")
	check := flag.Bool("check", false, "exit 1 when a target is missed")
	ramp := flag.Duration("ramp", time.Second, "start the clients evenly over this time (0: all at once)")
	flag.Parse()

	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	bin := *server
	if bin == "" {
		dir, err := os.MkdirTemp("", "lruviz-load")
		if err != nil {
			fatal(err)
		}
		defer os.RemoveAll(dir)
		bin = dir + "/lruviz"
		cmd := exec.Command("go", "build", "-o", bin, "./cmd/lruviz")
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			fatal(fmt.Errorf("building lruviz: %w", err))
		}
	}
	srv, err := startServer(bin, *clients+8)
	if err != nil {
		fatal(err)
	}
	defer srv.stop()
	fmt.Printf("lruviz serve at %s (pid %d); %d clients, scenario %s, batch %v, GOMAXPROCS %d on %d CPUs\n",
		srv.url, srv.cmd.Process.Pid, *clients, *scn, *batch, runtime.GOMAXPROCS(0), runtime.NumCPU())

	// 1. One client alone, at full speed, with and without batches.
	ok := true
	for _, b := range []bool{*batch, !*batch} {
		r, err := single(ctx, srv.url, *scn, b, *frames)
		if err != nil {
			srv.stop()
			fatal(fmt.Errorf("single client: %w", err))
		}
		fmt.Printf("single client, frames %v batch %-5v: %d events in %v: %.0f events/s\n", *frames, b, r.events, r.took.Round(time.Millisecond), float64(r.events)/r.took.Seconds())
		if b == *batch && float64(r.events)/r.took.Seconds() < 200000 {
			ok = false
		}
		if *frames {
			break // batch means nothing with frames
		}
	}

	// 2. Many clients.
	rss0 := srv.rss()
	res := many(ctx, srv.url, *clients, *scn, *seeks, *backs, *batch, *frames, *ramp)
	hwm := srv.hwm()
	fmt.Printf("\n%d clients (started over %v): %d done, %d failed, in %v; %d events received, %.0f events/s in all\n",
		*clients, *ramp, res.done, len(res.errs), res.wall.Round(time.Millisecond), res.events, float64(res.events)/res.wall.Seconds())
	for i, e := range res.errs {
		if i == 5 {
			fmt.Printf("  … %d more\n", len(res.errs)-5)
			break
		}
		fmt.Printf("  error: %v\n", e)
	}
	fmt.Printf("\n%-22s %8s %10s %10s %10s\n", "command → last message", "count", "p50", "p99", "max")
	var inter []time.Duration
	for _, k := range []string{"load → loaded", "timeline (lazy)", "play → playing", "play → ended", "pause → paused", "seek → state", "step -1 → state"} {
		l := res.lat[k]
		if len(l) == 0 {
			continue
		}
		slices.Sort(l)
		fmt.Printf("%-22s %8d %10v %10v %10v\n", k, len(l), pct(l, 50), pct(l, 99), l[len(l)-1].Round(time.Microsecond))
		// A play runs to the end of the trace; the timeline comes after the first picture,
		// which the page shows without it: neither is an answer a reader waits for.
		if k != "play → ended" && k != "timeline (lazy)" {
			inter = append(inter, l...)
		}
	}
	slices.Sort(inter)
	fmt.Printf("%-22s %8d %10v %10v %10v\n", "all but play → ended", len(inter), pct(inter, 50), pct(inter, 99), last(inter))
	fmt.Printf("\nserver memory: %d MB resident before the clients, %d MB peak (VmHWM)\n", rss0>>20, hwm>>20)

	p99 := pct(inter, 99)
	pause := res.lat["pause → paused"]
	fmt.Printf("\ntargets: p99 < 100ms: %v (%v); pause p99 < 100ms: %v (%v, %d pauses elsewhere than the view shown or with a view after); server memory < 500 MB: %v (%d MB); all clients done: %v\n",
		p99 < 100*time.Millisecond, p99, pct(pause, 99) < 100*time.Millisecond, pct(pause, 99), res.late, hwm < 500<<20, hwm>>20, len(res.errs) == 0)
	if p99 >= 100*time.Millisecond || pct(pause, 99) >= 100*time.Millisecond || res.late > 0 || hwm >= 500<<20 || len(res.errs) > 0 {
		ok = false
	}
	fmt.Printf("clients=%d ramp=%v p50_ms=%.1f p99_ms=%.1f peak_mb=%d events_per_s=%.0f\n", *clients, *ramp,
		float64(pct(inter, 50).Microseconds())/1000, float64(p99.Microseconds())/1000, hwm>>20, float64(res.events)/res.wall.Seconds())
	if *check && !ok {
		srv.stop()
		os.Exit(1)
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "loadtest:", err)
	os.Exit(2)
}

func pct(l []time.Duration, p int) time.Duration {
	if len(l) == 0 {
		return 0
	}
	return l[min(len(l)-1, len(l)*p/100)].Round(time.Microsecond)
}

func last(l []time.Duration) time.Duration {
	if len(l) == 0 {
		return 0
	}
	return l[len(l)-1].Round(time.Microsecond)
}

// ---- the server -------------------------------------------------------------------------------

type server struct {
	cmd  *exec.Cmd
	url  string
	once sync.Once
}

// startServer starts lruviz serve with its default scenario (a short one, fast-path, which
// every connection gets unasked: the clients then load the long one).
func startServer(bin string, conns int) (*server, error) {
	cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--max-conns", strconv.Itoa(conns))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		return nil, fmt.Errorf("lruviz serve printed no URL: %w", err)
	}
	go io.Copy(io.Discard, out)
	return &server{cmd: cmd, url: strings.TrimSuffix(strings.TrimSpace(line), "/")}, nil
}

func (s *server) stop() {
	s.once.Do(func() {
		s.cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { s.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			s.cmd.Process.Kill()
		}
	})
}

// status reads a field of /proc/PID/status, in bytes.
func (s *server) status(field string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return -1
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n << 10
		}
	}
	return -1
}

func (s *server) rss() int64 { return s.status("VmRSS") }
func (s *server) hwm() int64 { return s.status("VmHWM") }

// ---- a client ---------------------------------------------------------------------------------

// frameTime is a 60 Hz display's frame: a page draws a view, then acknowledges it.
const frameTime = 16 * time.Millisecond

type client struct {
	c       *websocket.Conn
	head    [256]byte // the head of the message read last
	pos     int
	n       int64 // events received
	frames  bool
	playing bool // acknowledge views (frames)
	drawn   int  // the position of the view acknowledged last: what a page would show
}

func dial(ctx context.Context, url string, batch, frames bool) (*client, error) {
	// As a browser does, offer permessage-deflate (the server compresses the timeline).
	d := websocket.Dialer{HandshakeTimeout: 30 * time.Second, ReadBufferSize: 64 << 10, WriteBufferSize: 4096, EnableCompression: true}
	var c *websocket.Conn
	var err error
	for try := range 5 {
		path := "/ws"
		if frames {
			path += "?frames=1"
		}
		c, _, err = d.DialContext(ctx, "ws"+strings.TrimPrefix(url, "http")+path, http.Header{"Origin": {url}})
		if err == nil {
			break
		}
		time.Sleep(time.Duration(try+1) * 100 * time.Millisecond)
	}
	if err != nil {
		return nil, err
	}
	cl := &client{c: c, frames: frames}
	if context.Cause(ctx) == nil {
		if dl, ok := ctx.Deadline(); ok {
			c.SetReadDeadline(dl)
		}
	}
	if batch && !frames {
		if err := cl.send(`{"type":"options","batch":true}`); err != nil {
			return nil, err
		}
	}
	return cl, nil
}

func (cl *client) send(s string) error { return cl.c.WriteMessage(websocket.TextMessage, []byte(s)) }

// next reads one message and returns its type, keeping track of the position and the events.
func (cl *client) next() (string, error) {
	_, r, err := cl.c.NextReader()
	if err != nil {
		return "", err
	}
	// The type and the position come first in every message: read a head and leave the rest
	// (the next NextReader skips it, without inflating it). A page parses it all, on its own
	// machine; holding a 3 MB timeline in 200 buffers here would make the load generator, not
	// the server, what is measured.
	n, err := io.ReadFull(r, cl.head[:])
	if err != nil && err != io.ErrUnexpectedEOF {
		return "", err
	}
	b := cl.head[:n]
	typ, _ := field(b, `"type":"`) // the first: the message's own (events have kinds)
	_, rest := field(b, `{`)
	if typ == "" {
		return "", fmt.Errorf("not a message: %.80s", b)
	}
	switch typ {
	case "event", "events", "state", "view":
		p, _ := field(rest, `"position":`)
		pos, err := strconv.Atoi(p)
		if err != nil {
			return "", fmt.Errorf("no position: %.80s", b)
		}
		if typ != "state" && pos > cl.pos {
			cl.n += int64(pos - cl.pos)
		}
		cl.pos = pos
		if typ == "view" {
			if cl.playing {
				// Drawn at the next frame of a 60 Hz display: let the server send the next.
				time.Sleep(frameTime)
				if err := cl.send(`{"type":"ack","position":` + p + `}`); err != nil {
					return "", err
				}
				cl.drawn = pos
			}
			typ = "state" // a view answers what a state answers
		}
	case "paused":
		p, _ := field(rest, `"position":`)
		pos, err := strconv.Atoi(p)
		if err != nil {
			return "", fmt.Errorf("no position: %.80s", b)
		}
		cl.pos = pos
	case "loaded":
		cl.pos, cl.drawn = 0, 0
	case "error":
		return "", fmt.Errorf("server: %.200s", b)
	}
	return typ, nil
}

// field returns the value after prefix: a string's text, or a number.
func field(b []byte, prefix string) (string, []byte) {
	i := bytes.Index(b, []byte(prefix))
	if i < 0 {
		return "", nil
	}
	b = b[i+len(prefix):]
	end := bytes.IndexAny(b, `",}`)
	if end < 0 {
		return "", nil
	}
	return string(b[:end]), b[end:]
}

// until reads up to a message of type typ.
func (cl *client) until(typ string) error {
	for {
		t, err := cl.next()
		if err != nil {
			return err
		}
		if t == typ {
			return nil
		}
	}
}

type singleResult struct {
	events int64
	took   time.Duration
}

func single(ctx context.Context, url, scn string, batch, frames bool) (singleResult, error) {
	cl, err := dial(ctx, url, batch, frames)
	if err != nil {
		return singleResult{}, err
	}
	defer cl.c.Close()
	if err := cl.until("loaded"); err != nil {
		return singleResult{}, err
	}
	if err := cl.send(`{"type":"load","scenario":"` + scn + `"}`); err != nil {
		return singleResult{}, err
	}
	if err := cl.until("loaded"); err != nil {
		return singleResult{}, err
	}
	if frames {
		// As the page does (and so the many clients find the timeline made, as they would
		// on a server that has shown the lesson once).
		cl.send(`{"type":"timeline"}`)
		if err := cl.until("timeline"); err != nil {
			return singleResult{}, err
		}
	}
	start := time.Now()
	cl.playing = true
	cl.send(`{"type":"play","speed":0}`)
	if err := cl.until("ended"); err != nil {
		return singleResult{}, err
	}
	return singleResult{cl.n, time.Since(start)}, nil
}

type manyResult struct {
	done   int
	errs   []error
	events int64
	wall   time.Duration
	lat    map[string][]time.Duration
	late   int // pauses answered elsewhere than at the view shown, and views after a pause
}

func many(ctx context.Context, url string, n int, scn string, seeks, backs int, batch, frames bool, ramp time.Duration) manyResult {
	var mu sync.Mutex
	res := manyResult{lat: map[string][]time.Duration{}}
	var wg sync.WaitGroup
	start := time.Now()
	for i := range n {
		time.Sleep(ramp / time.Duration(n))
		wg.Go(func() {
			lat := map[string][]time.Duration{}
			events, late, err := oneClient(ctx, url, scn, seeks, backs, batch, frames, uint64(i), lat)
			mu.Lock()
			defer mu.Unlock()
			res.events += events
			res.late += late
			if err != nil {
				res.errs = append(res.errs, fmt.Errorf("client %d: %w", i, err))
				return
			}
			res.done++
			for k, v := range lat {
				res.lat[k] = append(res.lat[k], v...)
			}
		})
	}
	wg.Wait()
	res.wall = time.Since(start)
	return res
}

func oneClient(ctx context.Context, url, scn string, seeks, backs int, batch, frames bool, seed uint64, lat map[string][]time.Duration) (int64, int, error) {
	cl, err := dial(ctx, url, batch, frames)
	if err != nil {
		return 0, 0, err
	}
	defer cl.c.Close()
	if err := cl.until("loaded"); err != nil {
		return cl.n, 0, err
	}
	timed := func(kind, cmd string, ends ...string) (time.Duration, error) {
		t0 := time.Now()
		if err := cl.send(cmd); err != nil {
			return 0, err
		}
		for _, e := range ends {
			if err := cl.until(e); err != nil {
				return 0, fmt.Errorf("%s: %w", kind, err)
			}
		}
		d := time.Since(t0)
		lat[kind] = append(lat[kind], d)
		return d, nil
	}
	if _, err := timed("load → loaded", `{"type":"load","scenario":"`+scn+`"}`, "loaded"); err != nil {
		return cl.n, 0, err
	}
	if frames {
		// As the page does once it has drawn position 0: the operations and the lanes.
		if _, err := timed("timeline (lazy)", `{"type":"timeline"}`, "timeline"); err != nil {
			return cl.n, 0, err
		}
	}
	r := rand.New(rand.NewPCG(seed, 1))
	late := 0
	if frames {
		// Play at full speed and pause after a while: the pause's answer, and no view after.
		cl.playing = true
		cl.send(`{"type":"play","speed":0}`)
		if err := cl.until("playing"); err != nil {
			return cl.n, 0, err
		}
		deadline := time.Now().Add(time.Duration(20+r.IntN(100)) * time.Millisecond)
		for time.Now().Before(deadline) {
			if _, err := cl.next(); err != nil {
				return cl.n, 0, err
			}
		}
		cl.playing = false
		shown := cl.drawn
		if _, err := timed("pause → paused", `{"type":"pause","position":`+strconv.Itoa(shown)+`}`, "paused"); err != nil {
			return cl.n, 0, err
		}
		at := cl.pos
		if at != shown {
			late++ // paused elsewhere than at the view shown
		}
		// A seek answers with a view; any view before it that moves past the pause is late.
		cl.send(`{"type":"seek","position":` + strconv.Itoa(at) + `}`)
		for {
			t, err := cl.next()
			if err != nil {
				return cl.n, 0, err
			}
			if t == "state" {
				if cl.pos != at {
					late++
					continue
				}
				break
			}
		}
		cl.send(`{"type":"seek","position":0}`)
		if err := cl.until("state"); err != nil {
			return cl.n, 0, err
		}
	}
	// Play: the first answer, then the end.
	t0 := time.Now()
	cl.playing = true
	cl.send(`{"type":"play","speed":0}`)
	if err := cl.until("playing"); err != nil {
		return cl.n, late, err
	}
	lat["play → playing"] = append(lat["play → playing"], time.Since(t0))
	if err := cl.until("ended"); err != nil {
		return cl.n, late, err
	}
	cl.playing = false
	lat["play → ended"] = append(lat["play → ended"], time.Since(t0))
	total := cl.pos
	for range seeks {
		if _, err := timed("seek → state", `{"type":"seek","position":`+strconv.Itoa(r.IntN(total+1))+`}`, "state"); err != nil {
			return cl.n, late, err
		}
	}
	for range backs {
		if cl.pos == 0 {
			break
		}
		if _, err := timed("step -1 → state", `{"type":"step","n":-1}`, "state"); err != nil {
			return cl.n, late, err
		}
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return cl.n, late, ctx.Err()
	}
	return cl.n, late, nil
}
