// SPDX-License-Identifier: GPL-2.0-only

package web

import (
	"context"
	"net"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/lruviz/lruviz/chart"
)

// dropListener is a listener whose connections a test can cut, as a dead server or a failed
// network would: no close frame, so the page's websocket closes with 1006. While down, it
// cuts every new connection too.
type dropListener struct {
	net.Listener
	mu    sync.Mutex
	conns []net.Conn
	down  bool
}

func (l *dropListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		l.mu.Lock()
		if l.down {
			l.mu.Unlock()
			c.Close()
			continue
		}
		l.conns = append(l.conns, c)
		l.mu.Unlock()
		return c, nil
	}
}

// setDown cuts every connection and refuses new ones (down), or lets them in again.
func (l *dropListener) setDown(down bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.down = down
	if down {
		for _, c := range l.conns {
			c.Close()
		}
		l.conns = nil
	}
}

// closeTerm returns the glossary's explanation of a close code.
func closeTerm(t *testing.T, code string) string {
	for _, g := range chart.Glossary {
		if g.Term == "close "+code {
			return g.Text
		}
	}
	t.Fatalf("the glossary has no close %s", code)
	return ""
}

// TestBrowserCloseCodesExplained: where a close code appears, it is explained on focus (and
// hover) in the glossary's words: 1006 in the connection badge when the connection drops
// without a close frame (the page retries, and comes back), 1009 in the editor's error when
// the server refuses a message over its limit.
func TestBrowserCloseCodesExplained(t *testing.T) {
	b := newBrowser(t, false)
	// A server of our own, whose connections the test can cut.
	ts := httptest.NewUnstartedServer(nil)
	dl := &dropListener{Listener: ts.Listener}
	ts.Listener = dl
	srv, err := New(Options{Logf: t.Logf, Addr: dl.Addr().String()})
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = srv
	ts.Start()
	t.Cleanup(func() {
		dl.setDown(false)
		ctx, cancel := context.WithDeadline(context.Background(), patience(t))
		defer cancel()
		srv.Shutdown(ctx)
		ts.Close()
	})
	b.url = ts.URL
	// The console reports the failed reconnections; they are the point.
	b.allow = func(e string) bool { return strings.Contains(e, "WebSocket") || strings.Contains(e, "ERR_") }
	b.open("/#scenario=fast-path&pos=3")
	b.settle(3)

	explained := func(where, sel, code string) {
		t.Helper()
		b.waitFor(where+": close "+code+" shown", "document.querySelector('"+sel+" .term[data-term=\"close "+code+"\"]')")
		b.exec("document.querySelector('" + sel + " .term[data-term=\"close " + code + "\"]').focus()")
		b.waitFor(where+": the explanation", "!document.getElementById('tip').hidden && document.getElementById('tip').dataset.for === 'close "+code+"'")
		if got, want := b.str("document.getElementById('tip').textContent"), closeTerm(t, code); !strings.Contains(got, want) {
			t.Errorf("%s: close %s is explained as %q, want %q", where, code, got, want)
		}
	}

	dl.setDown(true)
	explained("the connection badge", "#conn", "1006")
	if got := b.str("document.getElementById('conn').textContent"); !strings.Contains(got, "disconnected (close 1006)") {
		t.Errorf("the badge says %q", got)
	}
	b.screenshot("close-1006")
	dl.setDown(false)
	b.waitFor("the reconnection", "document.getElementById('conn').dataset.state === 'ok' && window.lruviz.loaded")

	// 1009: a message over the server's limit, sent as is (past the page's own check).
	huge := "map lru_hash entries=8 cpus=1\n# " + strings.Repeat("y", b.num("window.lruviz.hello.limits.message_bytes")) + "\n"
	b.exec("window.lruviz.send({type: 'load', script: " + jsonString(huge) + "})")
	explained("the editor's error", "#editor-error", "1009")
	b.screenshot("close-1009")
}
