// SPDX-License-Identifier: GPL-2.0-only

package web

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// The end-to-end tests drive Debian's chromium, headless, against the real handler. Without
// chromium they skip, unless LRUVIZ_REQUIRE_BROWSER=1 (as `make test` sets), when they fail.

// outDir is where screenshots go: LRUVIZ_TEST_OUTPUT, else /tmp/lruviz-test-output/web.
func outDir(t *testing.T) string {
	dir := os.Getenv("LRUVIZ_TEST_OUTPUT")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "lruviz-test-output", "web")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func findChromium(t *testing.T) string {
	for _, p := range []string{os.Getenv("LRUVIZ_CHROMIUM"), "/usr/bin/chromium", "chromium"} {
		if p == "" {
			continue
		}
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	if os.Getenv("LRUVIZ_REQUIRE_BROWSER") == "1" {
		t.Fatal("chromium not found, and LRUVIZ_REQUIRE_BROWSER=1: `make test` installs it (apt-get install chromium)")
	}
	t.Skip("chromium not found: skipping the browser tests (apt-get install chromium, or make test)")
	return ""
}

// browser is a headless chromium tab on a test server.
type browser struct {
	t    *testing.T
	ctx  context.Context
	url  string
	out  string
	shot int
	// thrown returns the uncaught exceptions of the page so far: waitFor gives up at the first,
	// as the page is broken then, rather than wait for what will never come.
	thrown func() []string
	// allow says which errors in the console a test expects (nil: none).
	allow func(string) bool
}

var _ = jsonString

func newBrowser(t *testing.T, dark bool) *browser {
	t.Helper()
	return newBrowserWith(t, dark, Options{})
}

// newBrowserWith is newBrowser on a server with opts.
func newBrowserWith(t *testing.T, dark bool, serverOpts Options) *browser {
	t.Helper()
	exe := findChromium(t)
	_, ts := newServerWith(t, serverOpts)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("mute-audio", true),
		chromedp.WindowSize(1600, 1000),
	}
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(acancel)
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	t.Cleanup(cancel)
	// The first call starts the browser, which lives as long as ctx.
	scheme := "light"
	if dark {
		scheme = "dark"
	}
	if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}}); err != nil {
		t.Fatal(err)
	}
	// Focus events as in a focused window (a headless page never has the focus).
	if _, err := chromedp.Call(ctx, emulation.SetFocusEmulationEnabled, emulation.SetFocusEmulationEnabledParams{Enabled: true}); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var consoleErrs, thrown []string
	b := &browser{t: t, url: ts.URL, out: outDir(t)}
	err := chromedp.Listen(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch e := ev.(type) {
		case *runtime.EventExceptionThrown:
			msg := e.ExceptionDetails.Text
			if e.ExceptionDetails.Exception != nil {
				msg += " " + e.ExceptionDetails.Exception.Description
			}
			consoleErrs = append(consoleErrs, msg)
			thrown = append(thrown, msg)
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.ConsoleAPICalledTypeError {
				var parts []string
				for _, a := range e.Args {
					parts = append(parts, string(a.Value)+a.Description)
				}
				consoleErrs = append(consoleErrs, strings.Join(parts, " "))
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		var errs []string
		for _, e := range consoleErrs {
			if b.allow == nil || !b.allow(e) {
				errs = append(errs, e)
			}
		}
		if len(errs) > 0 {
			t.Errorf("errors in the page's console: %q", errs)
		}
	})
	b.ctx = ctx
	b.thrown = func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(thrown)
	}
	return b
}

func (b *browser) do(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		b.t.Fatal(err)
	}
}

// evaluate evaluates a JavaScript expression, awaiting a promise.
func evaluate[T any](b *browser, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithDeadline(b.ctx, patience(b.t))
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("%s: %v", expr, err)
	}
	return v
}

func (b *browser) exec(expr string)      { b.t.Helper(); evaluate[bool](b, "("+expr+"), true") }
func (b *browser) bool(expr string) bool { b.t.Helper(); return evaluate[bool](b, "!!("+expr+")") }
func (b *browser) str(expr string) string {
	b.t.Helper()
	return evaluate[string](b, "Promise.resolve("+expr+").then(String)")
}
func (b *browser) num(expr string) int {
	b.t.Helper()
	return int(evaluate[float64](b, "Number("+expr+")"))
}
func (b *browser) position() int { b.t.Helper(); return b.num("window.lruviz.pos()") }
func (b *browser) json(expr string, out any) {
	b.t.Helper()
	if err := json.Unmarshal([]byte(evaluate[string](b, "Promise.resolve("+expr+").then(v => JSON.stringify(v))")), out); err != nil {
		b.t.Fatal(err)
	}
}

// waitFor polls a JavaScript condition until it is true.
func (b *browser) waitFor(what, cond string) {
	b.t.Helper()
	deadline := patience(b.t)
	for !b.bool(cond) {
		if ex := b.thrown(); len(ex) > 0 {
			b.screenshot("exception")
			b.t.Fatalf("waiting for %s: the page threw %q", what, ex)
		}
		if time.Now().After(deadline) {
			b.screenshot("timeout")
			b.t.Fatalf("timed out waiting for %s (%s)", what, cond)
		}
		time.Sleep(40 * time.Millisecond)
	}
}

// settle waits for the page to have drawn position p.
func (b *browser) settle(p int) {
	b.t.Helper()
	b.waitFor(fmt.Sprintf("position %d", p), fmt.Sprintf("document.body.dataset.position === '%d' && !window.lruviz.dirty", p))
}

func (b *browser) screenshot(name string) string {
	b.t.Helper()
	buf, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return ""
	}
	b.shot++
	path := filepath.Join(b.out, fmt.Sprintf("%s-%02d-%s.png", strings.ReplaceAll(b.t.Name(), "/", "_"), b.shot, name))
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot: %s", path)
	return path
}

// key types a key: a character, or the name of a special key (ArrowRight, Home, End...).
func (b *browser) key(k string) {
	b.t.Helper()
	if sp, ok := specialKeys[k]; ok {
		k = sp
	}
	b.do(chromedp.KeyEvent(k))
}

var specialKeys = map[string]string{
	"ArrowRight": kb.ArrowRight, "ArrowLeft": kb.ArrowLeft, "Home": kb.Home, "End": kb.End, "Escape": kb.Escape, "PageDown": kb.PageDown, "PageUp": kb.PageUp,
}

func (b *browser) open(path string) {
	b.t.Helper()
	// A new document each time: a change of the fragment alone would not reload the page.
	b.do(chromedp.Navigate("about:blank"), chromedp.Navigate(b.url+path))
	b.waitFor("the page to load a scenario", "window.lruviz && window.lruviz.loaded && document.body.dataset.position !== undefined && !window.lruviz.restore && !window.lruviz.restoring")
}

// viewport sets the page's size in CSS pixels (the window stays 1600×1000).
func (b *browser) viewport(w, h int) {
	b.t.Helper()
	if _, err := chromedp.Call(b.ctx, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
		Width: int64(w), Height: int64(h), DeviceScaleFactor: 1}); err != nil {
		b.t.Fatal(err)
	}
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
