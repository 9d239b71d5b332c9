// SPDX-License-Identifier: GPL-2.0-only

package web

import (
	"strings"
	"testing"
)

// TestEmbedPage: /embed serves the scenario asked for, framable by the --allow-origin origins
// only: without one, by nobody. Bad parameters are refused with why.
func TestEmbedPage(t *testing.T) {
	_, closed := newServerWith(t, Options{})
	res, body := get(t, closed.URL+"/embed?scenario=contention&pos=60&theme=dark")
	if res.StatusCode != 200 || !strings.Contains(body, `data-scenario="contention"`) || !strings.Contains(body, `data-start="60"`) ||
		!strings.Contains(body, `data-theme="dark"`) || !strings.Contains(body, `src="/static/embed.js"`) ||
		!strings.Contains(body, `href="/#scenario=contention&amp;pos=60"`) {
		t.Fatalf("GET /embed: %s\n%.600s", res.Status, body)
	}
	if csp := res.Header.Get("Content-Security-Policy"); !strings.HasSuffix(csp, "frame-ancestors 'none'") || res.Header.Get("X-Frame-Options") != "DENY" {
		t.Errorf("without --allow-origin: CSP %q, X-Frame-Options %q", csp, res.Header.Get("X-Frame-Options"))
	}
	_, open := newServerWith(t, Options{AllowOrigins: []string{"https://course.example.org", "http://127.0.0.1:9"}})
	res, _ = get(t, open.URL+"/embed?scenario=fast-path")
	if csp := res.Header.Get("Content-Security-Policy"); res.StatusCode != 200 || !strings.HasSuffix(csp, "frame-ancestors https://course.example.org http://127.0.0.1:9") ||
		res.Header.Get("X-Frame-Options") != "" {
		t.Errorf("with --allow-origin: %s, CSP %q, X-Frame-Options %q", res.Status, csp, res.Header.Get("X-Frame-Options"))
	}
	for _, c := range []struct {
		q      string
		status int
		want   string
	}{
		{"?scenario=nope", 404, `no bundled scenario "nope"`},
		{"?scenario=../x", 404, "no bundled scenario"},
		{"?scenario=refill&pos=-2", 400, `pos "-2": want a position`},
		{"?scenario=refill&pos=x", 400, `pos "x"`},
		{"?scenario=refill&theme=blue", 400, `theme "blue": want light or dark`},
		{"", 200, `data-scenario="fast-path"`},
	} {
		res, body := get(t, open.URL+"/embed"+c.q)
		if res.StatusCode != c.status || !strings.Contains(body, c.want) {
			t.Errorf("/embed%s: %s %.200q", c.q, res.Status, body)
		}
	}
	// The compare page, for completeness: two panes, the second's ids prefixed.
	res, body = get(t, open.URL+"/compare")
	if res.StatusCode != 200 || strings.Count(body, `class="cmp-pane"`) != 2 || !strings.Contains(body, `id="b-update--`) {
		t.Errorf("GET /compare: %s", res.Status)
	}
}
