// SPDX-License-Identifier: GPL-2.0-only

package web

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"

	"github.com/lruviz/lruviz/scenarios"
)

// Embedding (docs/protocol.md, "Embedding"): /embed?scenario=NAME[&pos=P][&theme=light|dark]
// serves one bundled scenario with minimal chrome for an iframe in a course page. It is framed
// under the server's frame-ancestors policy (setOrigins): the origins of --allow-origin may
// frame it, and without one nobody may (frame-ancestors 'none', X-Frame-Options DENY).

// handleEmbed serves /embed.
func (s *Server) handleEmbed(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	name := q.Get("scenario")
	if name == "" {
		name = s.opts.Scenario
	}
	if _, ok := scenarios.Source(name); !ok {
		http.Error(w, fmt.Sprintf("no bundled scenario %q (GET /api/scenarios lists them)", name), http.StatusNotFound)
		return
	}
	pos := 0
	if p := q.Get("pos"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			http.Error(w, fmt.Sprintf("pos %q: want a position, 0 or more", p), http.StatusBadRequest)
			return
		}
		pos = n
	}
	theme := q.Get("theme")
	if theme != "" && theme != "light" && theme != "dark" {
		http.Error(w, fmt.Sprintf("theme %q: want light or dark", theme), http.StatusBadRequest)
		return
	}
	var buf bytes.Buffer
	if err := EmbedPage(s.views, name, scenarioTitle(name), pos, theme).Render(r.Context(), &buf); err != nil {
		s.opts.Logf("lruviz serve: rendering the embed page: %v", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(buf.Bytes())
}

func itoaTempl(n int) string { return strconv.Itoa(n) }
