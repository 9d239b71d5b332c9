// SPDX-License-Identifier: GPL-2.0-only

package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// syncBuffer is a writer the test reads while the server writes.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestServe starts `lruviz serve` on a free port, reads the URL it prints, fetches the page,
// opens a websocket, and stops it as SIGINT would (cancelling the context): a clean stop.
func TestServe(t *testing.T) {
	for _, args := range [][]string{{"serve", "--addr", "127.0.0.1:0", "--scenario", "contention"}} {
		ctx, cancel := context.WithCancel(context.Background())
		pr, pw := io.Pipe()
		var stderr syncBuffer
		done := make(chan error, 1)
		go func() {
			done <- run(ctx, args, strings.NewReader(""), pw, &stderr)
			pw.Close()
		}()
		line, err := bufio.NewReader(pr).ReadString('\n')
		if err != nil {
			t.Fatal(err, stderr.String())
		}
		go io.Copy(io.Discard, pr)
		url := strings.TrimSpace(line)
		if !strings.HasPrefix(url, "http://127.0.0.1:") || !strings.HasSuffix(url, "/") {
			t.Fatalf("serve printed %q", line)
		}
		res, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || !strings.Contains(string(body), `<svg`) {
			t.Fatalf("GET %s: %s", url, res.Status)
		}
		// On loopback, a foreign Host (DNS rebinding) is refused.
		req, _ := http.NewRequest("GET", url, nil)
		req.Host = "rebound.example"
		if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != 403 {
			t.Errorf("Host rebound.example: %v %v", res, err)
		} else {
			res.Body.Close()
		}
		ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(url, "http")+"ws", http.Header{"Origin": {strings.TrimSuffix(url, "/")}})
		if err != nil {
			t.Fatal(err)
		}
		var loaded struct{ Type, Scenario string }
		for loaded.Type != "loaded" {
			if err := ws.ReadJSON(&loaded); err != nil {
				t.Fatal(err)
			}
		}
		if loaded.Scenario != "contention" {
			t.Errorf("--scenario contention: loaded %q", loaded.Scenario)
		}
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve stopped with %v", err)
			}
		case <-time.After(time.Until(patience(t))):
			t.Fatal("serve did not stop")
		}
		ws.SetReadDeadline(patience(t))
		if _, _, err := ws.ReadMessage(); !websocket.IsCloseError(err, websocket.CloseGoingAway) {
			t.Errorf("the websocket after the stop: %v", err)
		}
		ws.Close()
	}
}

// TestServeStopsComputing: SIGTERM while a long script is being computed stops the
// computation; the page computing gets 1001 (going away) and serve exits cleanly.
func TestServeStopsComputing(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	var stderr syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0"}, strings.NewReader(""), pw, &stderr)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatal(err, stderr.String())
	}
	go io.Copy(io.Discard, pr)
	url := strings.TrimSpace(line)
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(url, "http")+"ws", http.Header{"Origin": {strings.TrimSuffix(url, "/")}})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	var m struct{ Type string }
	for m.Type != "loaded" {
		if err := ws.ReadJSON(&m); err != nil {
			t.Fatal(err)
		}
	}
	// A script of many 64-CPU parallel groups: seconds of computing.
	var b strings.Builder
	b.WriteString("map lru_hash entries=16 cpus=64\n")
	for g := range 300 {
		b.WriteString("parallel {\n")
		for c := range 64 {
			fmt.Fprintf(&b, "cpu %d update %d 1\n", c, g*64+c)
		}
		b.WriteString("}\n")
	}
	if err := ws.WriteJSON(map[string]any{"type": "load", "script": b.String()}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // computing now
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve stopped with %v (%s)", err, stderr.String())
		}
	case <-time.After(time.Until(patience(t))):
		t.Fatal("serve did not stop")
	}
	ws.SetReadDeadline(patience(t))
	for {
		_, _, err := ws.ReadMessage()
		if err == nil {
			continue
		}
		if !websocket.IsCloseError(err, websocket.CloseGoingAway) {
			t.Errorf("the computing page got %v, want 1001", err)
		}
		break
	}
}

func TestServeUsage(t *testing.T) {
	for _, args := range [][]string{
		{"serve", "extra"},
		{"serve", "--scenario", "no-such-scenario", "--addr", "127.0.0.1:0"},
		{"serve", "--bogus"},
		{"serve", "--addr", "127.0.0.1:0", "--max-conns", "0"},
		{"serve", "--addr", "127.0.0.1:0", "--allow-origin", "example.org"},
		{"serve", "--addr", "127.0.0.1:0", "--allow-origin", "https://*.com"},
		{"serve", "--addr", "127.0.0.1:0", "--max-memory", "1"},
	} {
		_, errs, code := lruviz(t, "", args...)
		if code != 2 || errs == "" {
			t.Errorf("%q: exit %d, stderr %q", args, code, errs)
		}
	}
	p := writeFile(t, "bad.dot", "digraph { a -> b }")
	if _, errs, code := lruviz(t, "", "serve", "--diagram", p, "--addr", "127.0.0.1:0"); code != 2 || !strings.Contains(errs, "not the update chart") {
		t.Errorf("--diagram of another graph: exit %d, %q", code, errs)
	}
	// A device as the diagram is refused at once, not read for ever.
	if _, errs, code := lruviz(t, "", "serve", "--diagram", "/dev/zero", "--addr", "127.0.0.1:0"); code != 2 || !strings.Contains(errs, "not a regular file") {
		t.Errorf("--diagram /dev/zero: exit %d, %q", code, errs)
	}
	big := writeFile(t, "big.dot", "digraph {"+strings.Repeat(" ", maxDiagram)+"}")
	if _, errs, code := lruviz(t, "", "serve", "--diagram", big, "--addr", "127.0.0.1:0"); code != 2 || !strings.Contains(errs, "larger than") {
		t.Errorf("--diagram of 1 MiB: exit %d, %q", code, errs)
	}
	if _, errs, code := lruviz(t, "", "serve", "--addr", "256.0.0.1:99999"); code != 2 || errs == "" {
		t.Errorf("bad address: exit %d, %q", code, errs)
	}
}
