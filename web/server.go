// SPDX-License-Identifier: GPL-2.0-only

// Package web is lruviz's browser explorer: the page (templ components), the static files, the
// websocket sessions that replay a scenario's trace, and the downloads.
//
// A scenario's trace is computed once when it is loaded (the bundled scenarios' once per
// process, shared by every session); each websocket session has its own cursor over it, its
// own position, play state and breakpoints. The protocol is in docs/protocol.md.
package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/lruviz/lruviz/diagrams"
	"github.com/lruviz/lruviz/scenarios"
	"github.com/lruviz/lruviz/static"
	"github.com/lruviz/lruviz/trace"
)

// ProtocolVersion is the websocket protocol's version, sent in hello.
const ProtocolVersion = 1

// Options configure a Server.
type Options struct {
	// Diagram is the update chart shown; nil: diagrams.Default().
	Diagram *diagrams.Rendered
	// Scenario is the bundled scenario loaded when a page connects; "": the first in
	// teaching order.
	Scenario string
	// Logf logs a server-side problem (nil: log.Printf).
	Logf func(format string, args ...any)
}

// Server serves the explorer. Create it with New; it is an http.Handler.
type Server struct {
	opts     Options
	mux      *http.ServeMux
	diagrams []*diagrams.Rendered // the update chart first, then its companions
	nodes    []string             // ids of every visible flow node of every diagram shown
	views    []diagramView        // the diagrams as the page shows them
	upgrader websocket.Upgrader

	ctx    context.Context // cancelled by Shutdown
	cancel context.CancelFunc
	wg     sync.WaitGroup // sessions

	// Timings of a session, shortened by tests.
	pongWait, writeWait time.Duration
}

// New renders the diagrams (once; cached by the diagrams package) and returns the server.
func New(opts Options) (*Server, error) {
	if opts.Logf == nil {
		opts.Logf = log.Printf
	}
	names := scenarios.Names()
	if opts.Scenario == "" && len(names) > 0 {
		opts.Scenario = names[0]
	}
	if !slices.Contains(names, opts.Scenario) {
		return nil, fmt.Errorf("no bundled scenario %q (see lruviz scenarios)", opts.Scenario)
	}
	s := &Server{opts: opts, mux: http.NewServeMux(), pongWait: 60 * time.Second, writeWait: 10 * time.Second}
	main := opts.Diagram
	if main == nil {
		r, err := diagrams.Default()
		if err != nil {
			return nil, err
		}
		main = r
	}
	s.diagrams = append(s.diagrams, main)
	for _, n := range diagrams.Names()[1:] {
		r, err := diagrams.Companion(n)
		if err != nil {
			return nil, err
		}
		s.diagrams = append(s.diagrams, r)
	}
	for i, d := range s.diagrams {
		name := diagrams.Names()[i]
		svg := d.SVG()
		if i > 0 {
			// The companions draw some nodes of the update chart too (the push-back): their
			// ids get the diagram's name as a prefix, so that ids stay unique in the page.
			svg = bytes.ReplaceAll(svg, []byte(`<g id="`), []byte(`<g id="`+name+`--`))
		}
		s.views = append(s.views, diagramView{Name: name, Title: diagramTitles[name], SVG: string(svg)})
	}
	seen := map[string]bool{}
	for _, d := range s.diagrams {
		for _, n := range d.Nodes() {
			if n.Kind != diagrams.KindKey && !seen[n.ID] {
				seen[n.ID] = true
				s.nodes = append(s.nodes, n.ID)
			}
		}
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	// CheckOrigin stays nil: gorilla's default accepts only a same-origin page.
	s.upgrader = websocket.Upgrader{ReadBufferSize: 4096, WriteBufferSize: 16384}

	s.mux.HandleFunc("GET /{$}", s.handlePage)
	s.mux.Handle("GET /static/", http.StripPrefix("/static/", staticHandler()))
	s.mux.HandleFunc("GET /ws", s.handleWS)
	s.mux.HandleFunc("GET /api/scenarios", s.handleScenarios)
	s.mux.HandleFunc("GET /api/trace", s.handleTrace)
	s.mux.HandleFunc("POST /api/trace", s.handleTrace)
	s.mux.HandleFunc("GET /export", s.handleExport)
	s.mux.HandleFunc("POST /export", s.handleExport)
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
	return s, nil
}

// ServeHTTP serves a request with the security headers every response carries.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; "+
		"img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; base-uri 'none'; "+
		"form-action 'none'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cross-Origin-Opener-Policy", "same-origin-allow-popups")
	s.mux.ServeHTTP(w, r)
}

// Shutdown closes every websocket session (status 1001, going away) and waits for them to
// end, or for ctx. Call it after http.Server.Shutdown, which does not see hijacked
// connections, or register it with RegisterOnShutdown.
func (s *Server) Shutdown(ctx context.Context) error {
	s.cancel()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func staticHandler() http.Handler {
	fs := http.FileServerFS(static.Files)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/") || r.URL.Path == "" {
			http.NotFound(w, r) // no directory listings
			return
		}
		w.Header().Set("Cache-Control", "no-cache")
		fs.ServeHTTP(w, r)
	})
}

// diagramView is one diagram as the page shows it.
type diagramView struct {
	Name  string
	Title string
	SVG   string
}

var diagramTitles = map[string]string{
	diagrams.Update: "update", diagrams.Lookup: "lookup", diagrams.Delete: "delete", diagrams.PushFree: "push-back",
}

func (s *Server) handlePage(w http.ResponseWriter, r *http.Request) {
	views := s.views
	list := scenarioList()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	var buf bytes.Buffer
	if err := Page(views, list, s.opts.Scenario).Render(r.Context(), &buf); err != nil {
		s.opts.Logf("lruviz serve: rendering the page: %v", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Write(buf.Bytes())
}

type scenarioInfo struct {
	Name  string `json:"name"`
	Title string `json:"title"`
}

// scenarioTitle is a bundled scenario's title line, or its name.
func scenarioTitle(name string) string {
	src, _ := scenarios.Source(name)
	for line := range strings.SplitSeq(string(src), "\n") {
		if t, ok := strings.CutPrefix(strings.TrimSpace(line), "title "); ok {
			return strings.TrimSpace(t)
		}
	}
	return name
}

// scenarioList lists the bundled scenarios in teaching order.
func scenarioList() []scenarioInfo {
	out := []scenarioInfo{}
	for _, n := range scenarios.Names() {
		out = append(out, scenarioInfo{Name: n, Title: scenarioTitle(n)})
	}
	return out
}

func (s *Server) handleScenarios(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, scenarioList())
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	b, _ := json.Marshal(v)
	w.Write(b)
}

// requestTrace returns the trace a download asks for: GET ?scenario=NAME for a bundled
// scenario, POST with the scenario's text as the body for a script. A POST must carry the
// header X-Lruviz: 1, which a cross-site form cannot send. On failure it has answered.
func (s *Server) requestTrace(w http.ResponseWriter, r *http.Request) (t *Trace, name string, ok bool) {
	var err error
	name = "script"
	if r.Method == http.MethodPost {
		if r.Header.Get("X-Lruviz") != "1" {
			http.Error(w, "missing X-Lruviz header", http.StatusForbidden)
			return nil, "", false
		}
		body, rerr := io.ReadAll(http.MaxBytesReader(w, r.Body, maxMessage))
		if rerr != nil {
			http.Error(w, "the scenario is larger than 1 MiB", http.StatusRequestEntityTooLarge)
			return nil, "", false
		}
		t, err = Compute("script.lru", body)
	} else {
		name = r.URL.Query().Get("scenario")
		if _, found := scenarios.Source(name); !found {
			http.Error(w, fmt.Sprintf("no bundled scenario %q", name), http.StatusNotFound)
			return nil, "", false
		}
		t, err = Bundled(name)
	}
	if err != nil {
		var se *ScenarioError
		if errors.As(err, &se) {
			http.Error(w, se.Error(), http.StatusUnprocessableEntity)
			return nil, "", false
		}
		s.opts.Logf("lruviz serve: %v", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return nil, "", false
	}
	return t, name, true
}

// handleTrace downloads a trace (see requestTrace) as JSON Lines or Perfetto JSON:
// /api/trace?format=jsonl|perfetto.
func (s *Server) handleTrace(w http.ResponseWriter, r *http.Request) {
	format := r.URL.Query().Get("format")
	if format == "" {
		format = "jsonl"
	}
	if format != "jsonl" && format != "perfetto" {
		http.Error(w, "format must be jsonl or perfetto", http.StatusBadRequest)
		return
	}
	t, name, ok := s.requestTrace(w, r)
	if !ok {
		return
	}
	var buf bytes.Buffer
	var err error
	if format == "jsonl" {
		w.Header().Set("Content-Type", "application/jsonl")
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.jsonl"`)
		err = trace.WriteAll(&buf, t.Header, t.Events)
	} else {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.perfetto.json"`)
		err = trace.WritePerfetto(&buf, t.Header, t.Events)
	}
	if err != nil {
		s.opts.Logf("lruviz serve: writing a trace: %v", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Write(buf.Bytes())
}

// handleExport downloads the annotated SVG of the update chart (diagrams.Export, as `lruviz
// export` writes it) for a trace (see requestTrace): /export?step=P for position P, without
// step for the whole run, with animate=1 for the animated replay.
func (s *Server) handleExport(w http.ResponseWriter, r *http.Request) {
	opt := diagrams.ExportOptions{Step: -1}
	q := r.URL.Query()
	if v := q.Get("step"); v != "" {
		p, err := strconv.Atoi(v)
		if err != nil || p < 0 {
			http.Error(w, "step must be a position, 0 or more", http.StatusBadRequest)
			return
		}
		opt.Step = p
	}
	opt.Animate = q.Get("animate") == "1"
	if opt.Animate && opt.Step >= 0 {
		http.Error(w, "a step and an animation cannot be combined", http.StatusBadRequest)
		return
	}
	t, name, ok := s.requestTrace(w, r)
	if !ok {
		return
	}
	svg, err := diagrams.Export(s.diagrams[0], t.Header, t.Events, opt)
	if err != nil {
		s.opts.Logf("lruviz serve: export: %v", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	file := name
	if opt.Step >= 0 {
		file += "-step-" + strconv.Itoa(min(opt.Step, len(t.Events)))
	}
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Header().Set("Content-Disposition", `attachment; filename="`+file+`.svg"`)
	w.Write(svg)
}
