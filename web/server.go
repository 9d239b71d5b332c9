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
	"net"
	"net/http"
	"net/url"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/lruviz/lruviz/chart"
	"github.com/lruviz/lruviz/diagrams"
	"github.com/lruviz/lruviz/scenario"
	"github.com/lruviz/lruviz/scenarios"
	"github.com/lruviz/lruviz/static"
	"github.com/lruviz/lruviz/tour"
	"github.com/lruviz/lruviz/trace"
	"golang.org/x/sys/unix"
)

// Options configure a Server.
type Options struct {
	// Diagram is the update chart shown; nil: diagrams.Default().
	Diagram *diagrams.Rendered
	// Scenario is the bundled scenario loaded when a page connects; "": the first in
	// teaching order.
	Scenario string
	// Logf logs a server-side problem (nil: log.Printf).
	Logf func(format string, args ...any)
	// Addr is the address the server listens on (host:port). When its host is a loopback
	// address, requests must name a loopback host with this port (or an AllowOrigins host)
	// in their Host header: a guard against DNS rebinding. "": no check.
	Addr string
	// AllowOrigins are origins (scheme://host[:port]) besides the server's own whose pages may
	// open the websocket and embed the page in a frame, and whose hosts the Host check
	// accepts: a deliberate exposure (serve's --allow-origin).
	AllowOrigins []string
	// MaxConns bounds the websocket connections at once (0: DefaultMaxConns).
	MaxConns int
	// MaxMemory bounds the bytes the traces of scripts take while they are loaded (0:
	// DefaultMaxMemory): a script that would not fit is refused with a clear error.
	MaxMemory int64
	// Kernel runs each sequential scenario on the running kernel too and shows its lists and
	// path beside the simulation's (serve --kernel; see kernel.go). New fails when bpf() or
	// reading kernel memory does not work here.
	Kernel bool
	// kernelRun stands in for the kernel (tests); nil: verify.RunMirror.
	kernelRun mirrorFunc
	// Tours are lecture tours offered besides the bundled ones (serve --tour; tour.go).
	Tours []TourFile
}

// DefaultMaxMemory is the memory budget for scripts' traces unless Options say otherwise: a
// quarter of the machine's memory, at least 256 MiB.
func DefaultMaxMemory() int64 {
	var si unix.Sysinfo_t
	if unix.Sysinfo(&si) != nil || si.Totalram == 0 {
		return 1 << 30
	}
	return max(256<<20, int64(si.Totalram)*int64(si.Unit)/4)
}

// DefaultMaxConns is the websocket connections served at once unless Options say otherwise.
const DefaultMaxConns = 256

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
	hub    *hub

	conns    atomic.Int64 // websocket connections open
	maxConns int
	limits   limits        // on a script's trace
	store    *traceStore   // the traces of scripts, shared by content, within the memory budget
	exports  chan struct{} // downloads being written
	turns    chan struct{} // sessions making a view to play on (conn.go: session.run)

	helloOnce sync.Once
	hello     []byte // the hello message (helloJSON)

	kernel *kernelSource // with --kernel: the way to the kernel; nil without

	hosts   map[string]bool // the Host headers accepted; nil: any
	origins map[string]bool // AllowOrigins, normalised
	csp     string

	// The lecture tours offered (tour.go), by name, and in order.
	tours    map[string]*tour.Resolved
	tourList []tourInfo

	// The compare page's second set of diagrams (compare.go), made on first use.
	cmpViewsOnce sync.Once
	cmpViews     []diagramView

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
	s := &Server{opts: opts, mux: http.NewServeMux(), pongWait: 60 * time.Second, writeWait: 10 * time.Second,
		maxConns: opts.MaxConns, limits: limits{events: MaxEvents, ops: MaxOps}}
	if s.maxConns <= 0 {
		s.maxConns = DefaultMaxConns
	}
	if err := s.setOrigins(); err != nil {
		return nil, err
	}
	if err := s.kernelServer(); err != nil {
		return nil, err
	}
	if err := s.loadTours(); err != nil {
		return nil, err
	}
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
		s.views = append(s.views, diagramView{Name: name, Title: diagramTitles[name], SVG: string(pageSVG(d.SVG(), name, i > 0))})
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
	budget := opts.MaxMemory
	if budget <= 0 {
		budget = DefaultMaxMemory()
	}
	s.store = newTraceStore(s.ctx, &s.limits, budget)
	s.exports = make(chan struct{}, exportSlots)
	s.turns = make(chan struct{}, runtime.GOMAXPROCS(0))
	s.hub = newHub(s.ctx)
	go s.hub.run()
	// Compression is negotiated for the timeline's sake (writeTimeline); what a page sends is
	// read inflated up to maxMessage (session.read), so that a small compressed message
	// cannot grow into a large one.
	s.upgrader = websocket.Upgrader{ReadBufferSize: 4096, WriteBufferSize: 16384, CheckOrigin: s.checkOrigin, EnableCompression: true}

	s.mux.HandleFunc("GET /{$}", s.handlePage)
	s.mux.HandleFunc("GET /s/{id}", s.handleFollowPage)
	s.mux.Handle("GET /static/", http.StripPrefix("/static/", staticHandler()))
	s.mux.HandleFunc("GET /ws", s.handleWS)
	s.mux.HandleFunc("GET /api/scenarios", s.handleScenarios)
	s.mux.HandleFunc("GET /api/trace", s.handleTrace)
	s.mux.HandleFunc("POST /api/trace", s.handleTrace)
	s.mux.HandleFunc("GET /export", s.handleExport)
	s.mux.HandleFunc("POST /export", s.handleExport)
	s.mux.HandleFunc("GET /compare", s.handleCompare) // compare.go
	s.mux.HandleFunc("GET /embed", s.handleEmbed)     // embed.go
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
	return s, nil
}

// ServeHTTP serves a request with the security headers every response carries.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", s.csp)
	h.Set("X-Content-Type-Options", "nosniff")
	if len(s.origins) == 0 {
		h.Set("X-Frame-Options", "DENY") // with allowed origins, frame-ancestors alone says who may frame
	}
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cross-Origin-Opener-Policy", "same-origin-allow-popups")
	if s.hosts != nil && !s.hosts[strings.ToLower(r.Host)] {
		http.Error(w, fmt.Sprintf("lruviz serve: Host %q is not allowed. The server listens on a loopback address and answers "+
			"only to 127.0.0.1, localhost or [::1] with its port (a guard against DNS rebinding); "+
			"serve --allow-origin adds a host deliberately.", r.Host), http.StatusForbidden)
		return
	}
	s.mux.ServeHTTP(w, r)
}

// setOrigins prepares the Host allow-list, the allowed origins and the frame policy.
func (s *Server) setOrigins() error {
	s.origins = map[string]bool{}
	var frames []string
	var originHosts []string
	for _, o := range s.opts.AllowOrigins {
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || !validHost(u.Host) || (u.Path != "" && u.Path != "/") ||
			u.RawQuery != "" || u.Fragment != "" || u.User != nil || u.Opaque != "" {
			return fmt.Errorf("--allow-origin %q: want an origin, scheme://host[:port] (http or https, a host name or an IP address, no wildcard)", o)
		}
		norm := strings.ToLower(u.Scheme + "://" + u.Host)
		s.origins[norm] = true
		frames = append(frames, norm)
		originHosts = append(originHosts, strings.ToLower(u.Host))
	}
	frame := "'none'"
	if len(frames) > 0 {
		frame = strings.Join(frames, " ")
	}
	s.csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; " +
		"font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors " + frame
	if s.opts.Addr == "" {
		return nil
	}
	host, port, err := net.SplitHostPort(s.opts.Addr)
	if err != nil {
		return fmt.Errorf("address %q: %v", s.opts.Addr, err)
	}
	if ip := net.ParseIP(host); !(host == "localhost" || ip != nil && ip.IsLoopback()) {
		return nil // deliberately exposed: no Host check
	}
	s.hosts = map[string]bool{}
	for _, h := range []string{"127.0.0.1", "localhost", "[::1]"} {
		s.hosts[h+":"+port] = true
		if port == "80" {
			s.hosts[h] = true
		}
	}
	if ip := net.ParseIP(host); ip != nil && ip.To4() != nil {
		s.hosts[host+":"+port] = true // 127.0.0.2 and the like
	}
	for _, h := range originHosts {
		s.hosts[h] = true
	}
	return nil
}

// validHost says whether h is host[:port] with a host name (letters, digits, hyphens and dots)
// or an IP address, and a port of digits: no wildcard, nothing a frame-ancestors directive
// would read as more than one origin.
func validHost(h string) bool {
	host, port := h, ""
	if i := strings.LastIndexByte(h, ':'); i >= 0 && !strings.HasSuffix(h, "]") {
		host, port = h[:i], h[i+1:]
		if port == "" {
			return false
		}
		for _, c := range port {
			if c < '0' || c > '9' {
				return false
			}
		}
	}
	if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		return net.ParseIP(host[1:len(host)-1]) != nil
	}
	if host == "" || len(host) > 253 || net.ParseIP(host) != nil {
		return host != ""
	}
	for _, label := range strings.Split(host, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// checkOrigin accepts a websocket from a page of the server itself (the same scheme, host and
// port) or of an allowed origin, and from a client that is no page (no Origin header).
func (s *Server) checkOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	u, err := url.Parse(o)
	if err != nil {
		return false
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if strings.EqualFold(u.Scheme, scheme) && strings.EqualFold(u.Host, r.Host) {
		return true
	}
	return s.origins[strings.ToLower(u.Scheme+"://"+u.Host)]
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

var reGroupID = regexp.MustCompile(`<g id="([^"]*)"`)

// pageSVG is a diagram's SVG as the page holds it: each node's and edge's group gets a
// data-id, the node's id or the edge's FROM->TO, which is all the page reads; a companion's
// element ids get the diagram's name as a prefix (the companions draw some nodes of the update
// chart too, the push-back), so that ids stay unique in the page.
func pageSVG(svg []byte, name string, prefix bool) []byte {
	return reGroupID.ReplaceAllFunc(svg, func(m []byte) []byte {
		id := string(reGroupID.FindSubmatch(m)[1])
		dataID := id
		if i := strings.LastIndexByte(dataID, '#'); i > 0 {
			dataID = dataID[:i] // a second edge between the same nodes: same data-id
		}
		if prefix {
			id = name + "--" + id
		}
		return []byte(`<g id="` + id + `" data-id="` + dataID + `"`)
	})
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

func (s *Server) handlePage(w http.ResponseWriter, r *http.Request) { s.page(w, r, "") }

// handleFollowPage serves /s/ID: the page, following the live session ID.
func (s *Server) handleFollowPage(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !validID(id) || !s.hub.isLive(id) {
		// A page, not plain text: whoever opened the link learns the session has ended and
		// where to go instead.
		var buf bytes.Buffer
		if err := Ended(id).Render(r.Context(), &buf); err != nil {
			http.Error(w, fmt.Sprintf("no live session %q: the presenter may have left", id), http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		w.WriteHeader(http.StatusNotFound)
		w.Write(buf.Bytes())
		return
	}
	s.page(w, r, id)
}

func (s *Server) page(w http.ResponseWriter, r *http.Request, follow string) {
	views := s.views
	list := scenarioList()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	var buf bytes.Buffer
	if err := Page(views, list, s.opts.Scenario, follow).Render(r.Context(), &buf); err != nil {
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

// scenarioList lists the bundled scenarios in teaching order, worked out once: every
// connection's hello carries it.
var scenarioList = sync.OnceValue(func() []scenarioInfo {
	out := []scenarioInfo{}
	for _, n := range scenarios.Names() {
		out = append(out, scenarioInfo{Name: n, Title: scenarioTitle(n)})
	}
	return out
})

func (s *Server) handleScenarios(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, scenarioList())
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	b, _ := json.Marshal(v)
	w.Write(b)
}

// Downloads: at most exportSlots written at once; one waits at most slotWait for its turn.
const exportSlots = 2

// requestTrace returns the trace a download asks for: GET ?scenario=NAME for a bundled
// scenario, POST with the scenario's text as the body for a script. A POST must carry the
// header X-Lruviz: 1, which a cross-site form cannot send, and its body must come within the
// server's read timeout. On failure it has answered. The caller calls release when done.
func (s *Server) requestTrace(w http.ResponseWriter, r *http.Request) (t *Trace, name string, release func(), ok bool) {
	var err error
	name = "script"
	release = func() {}
	if r.Method == http.MethodPost {
		if r.Header.Get("X-Lruviz") != "1" {
			http.Error(w, "missing X-Lruviz header", http.StatusForbidden)
			return nil, "", nil, false
		}
		body, rerr := io.ReadAll(http.MaxBytesReader(w, r.Body, scenario.MaxSize))
		if rerr != nil {
			var mb *http.MaxBytesError
			if errors.As(rerr, &mb) {
				http.Error(w, "the scenario is larger than 1 MiB", http.StatusRequestEntityTooLarge)
			} else {
				http.Error(w, "reading the scenario: "+rerr.Error(), http.StatusBadRequest)
			}
			return nil, "", nil, false
		}
		ctx, cancel := context.WithCancel(r.Context())
		defer cancel()
		stop := context.AfterFunc(s.ctx, cancel)
		defer stop()
		t, release, err = s.store.acquire(ctx, "script.lru", body)
	} else {
		name = r.URL.Query().Get("scenario")
		if _, found := scenarios.Source(name); !found {
			http.Error(w, fmt.Sprintf("no bundled scenario %q", name), http.StatusNotFound)
			return nil, "", nil, false
		}
		t, err = Bundled(name)
	}
	if err != nil {
		var se *ScenarioError
		var me *memoryError
		switch {
		case errors.As(err, &se):
			http.Error(w, se.Error(), http.StatusUnprocessableEntity)
		case errors.As(err, &me), errors.Is(err, errBusy), errors.Is(err, errStopping):
			w.Header().Set("Retry-After", "5")
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
		case r.Context().Err() != nil:
			// The client went away.
		default:
			s.opts.Logf("lruviz serve: %v", err)
			http.Error(w, "internal error", http.StatusInternalServerError)
		}
		return nil, "", nil, false
	}
	return t, name, release, true
}

// exportSlot waits for a download's turn; false (having answered "busy") when it does not
// come within slotWait.
func (s *Server) exportSlot(w http.ResponseWriter, r *http.Request) (func(), bool) {
	timer := time.NewTimer(slotWait)
	defer timer.Stop()
	select {
	case s.exports <- struct{}{}:
		return func() { <-s.exports }, true
	case <-timer.C:
	case <-r.Context().Done():
	case <-s.ctx.Done():
	}
	w.Header().Set("Retry-After", "5")
	http.Error(w, "the server is busy writing other downloads; try again in a moment", http.StatusServiceUnavailable)
	return nil, false
}

// handleTrace downloads a trace (see requestTrace) as JSON Lines or Perfetto JSON:
// /api/trace?format=jsonl|perfetto. It is written as it is encoded.
func (s *Server) handleTrace(w http.ResponseWriter, r *http.Request) {
	format := r.URL.Query().Get("format")
	if format == "" {
		format = "jsonl"
	}
	if format != "jsonl" && format != "perfetto" {
		http.Error(w, "format must be jsonl or perfetto", http.StatusBadRequest)
		return
	}
	t, name, release, ok := s.requestTrace(w, r)
	if !ok {
		return
	}
	defer release()
	done, ok := s.exportSlot(w, r)
	if !ok {
		return
	}
	defer done()
	var err error
	if format == "jsonl" {
		w.Header().Set("Content-Type", "application/jsonl")
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.jsonl"`)
		err = trace.WriteAll(w, t.Header, t.Events)
	} else {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.perfetto.json"`)
		err = trace.WritePerfetto(w, t.Header, chart.Trace(), t.Events)
	}
	if err != nil && r.Context().Err() == nil {
		s.opts.Logf("lruviz serve: writing a trace: %v", err)
	}
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
	t, name, release, ok := s.requestTrace(w, r)
	if !ok {
		return
	}
	defer release()
	done, ok := s.exportSlot(w, r)
	if !ok {
		return
	}
	defer done()
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
