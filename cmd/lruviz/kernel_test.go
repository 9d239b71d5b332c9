// SPDX-License-Identifier: GPL-2.0-only

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
	"github.com/lruviz/lruviz/verify"
	"github.com/lruviz/lruviz/web"
)

func TestExportKernelUsage(t *testing.T) {
	out := filepath.Join(t.TempDir(), "x.svg")
	for _, args := range [][]string{{"fast-path", "-o", out, "--kernel"}, {"fast-path", "-o", out, "--kernel", "--animate"}} {
		_, errs, code := lruviz(t, "", append([]string{"export"}, args...)...)
		if code != 2 || !strings.Contains(errs, "--kernel adds the kernel's lists to a --step export") {
			t.Errorf("%v: exit %d, %q", args, code, errs)
		}
	}
}

// requireKernel skips a test of --kernel where bpf() or reading kernel memory is unavailable,
// having checked that the command says so (exit 3).
func requireKernel(t *testing.T, args ...string) {
	t.Helper()
	if err := web.KernelAvailable(); err != nil {
		_, errs, code := lruviz(t, "", args...)
		if code != 3 || !strings.Contains(errs, "--kernel needs bpf() and reading kernel memory") {
			t.Fatalf("without bpf(): exit %d, %q", code, errs)
		}
		t.Skip("bpf() or reading kernel memory is unavailable here (not root?), so only exit status 3 was checked: ", err)
	}
}

// TestExportKernel: export --step P --kernel adds the kernel's lists at P, their differences
// from the simulation's and the kernel's path of the latest operation, drawn on the chart; in
// flight it says the lists are those before the operation; a parallel group is refused with
// where and why.
func TestExportKernel(t *testing.T) {
	dir := t.TempDir()
	script := writeFile(t, "k.lru", "map lru_hash entries=4 cpus=2 kernel=6.8\ncpu 0 update 1 1\ncpu 0 update 2 2\ncpu 1 lookup 1\n")
	requireKernel(t, "export", script, "-o", filepath.Join(dir, "x.svg"), "--step", "48", "--kernel")
	// Position 48: op 1 (cpu 0 update 2 2) has just ended; 6.8 used a local node, this kernel
	// refilled.
	out := filepath.Join(dir, "k.svg")
	if _, errs, code := lruviz(t, "", "export", script, "-o", out, "--step", "48", "--kernel"); code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	svg := string(wellFormed(t, out))
	for _, want := range []string{"The kernel&#39;s lists", "after op 1", "The scenario models kernel 6.8", "differences from the simulation&#39;s",
		"target_free: simulation 128, kernel", "The kernel&#39;s path for op 1 (cpu 0 update 2 2 any → 0)", "is not the simulation&#39;s",
		`class="kernel-path"`, `class="kernel-node"`, `stroke="#e07000"`} {
		if !strings.Contains(svg, want) {
			t.Errorf("the export lacks %q", want)
		}
	}
	prof, _, err := verify.HostProfile()
	if err != nil {
		t.Skip(err)
	}
	same := writeFile(t, "same.lru", "map lru_hash entries=4 cpus=2 kernel="+prof.Name+"\ncpu 0 update 1 1\ncpu 0 update 2 2\ncpu 1 lookup 1\n")
	if _, errs, code := lruviz(t, "", "export", same, "-o", out, "--step", "1000", "--kernel"); code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	svg = string(wellFormed(t, out))
	if !strings.Contains(svg, "They are the simulation&#39;s lists.") || strings.Contains(svg, "differences from the simulation") {
		t.Error("the host's profile: the lists do not agree in the export")
	}
	if _, errs, code := lruviz(t, "", "export", same, "-o", out, "--step", "40", "--kernel"); code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if svg = string(wellFormed(t, out)); !strings.Contains(svg, "An operation is in flight") || !strings.Contains(svg, "before op 1 (in flight)") {
		t.Error("in flight: not said")
	}
	_, errs, code := lruviz(t, "", "export", "contention", "-o", out, "--step", "5", "--kernel")
	if code != 2 || !strings.Contains(errs, "contention.lru:") || !strings.Contains(errs, "a parallel group") {
		t.Errorf("contention: exit %d, %q", code, errs)
	}
}

// TestServeKernel: serve --kernel mirrors the scenario a page loads and says so.
func TestServeKernel(t *testing.T) {
	requireKernel(t, "serve", "--addr", "127.0.0.1:0", "--kernel")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	var stderr syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--kernel", "--scenario", "fast-path"}, strings.NewReader(""), pw, &stderr)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatal(err, stderr.String())
	}
	go io.Copy(io.Discard, pr)
	url := strings.TrimSpace(line)
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(url, "http")+"ws?frames=1", http.Header{"Origin": {strings.TrimSuffix(url, "/")}})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	ws.SetReadDeadline(patience(t))
	var m struct {
		Type, Status string
		Host         struct{ Release string }
		Ops          []struct{ Result string }
	}
	for m.Type != "kernel" {
		_, b, err := ws.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(string(b), `{"type":"kernel"`) {
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatal(err)
			}
		}
	}
	if m.Status != "mirrored" || m.Host.Release == "" || len(m.Ops) != 3 {
		t.Errorf("kernel message %+v", m)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("serve stopped with %v", err)
	}
}
