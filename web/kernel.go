// SPDX-License-Identifier: GPL-2.0-only

package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/lruviz/lruviz/chart"
	"github.com/lruviz/lruviz/kernelmap"
	"github.com/lruviz/lruviz/scenario"
	"github.com/lruviz/lruviz/trace"
	"github.com/lruviz/lruviz/verify"
)

// The kernel beside the simulation (serve --kernel): each sequential scenario's operations run
// on a real map of the same shape too (verify.RunMirror), once per trace; its lists are shown
// next to the simulation's at every operation boundary, differences marked, and the path the
// kernel must have taken (verify.InferPath) beside the simulation's on the chart. The mirror and
// everything compared with it are derived once per trace (kernelView) and cached with it;
// sessions send what their position shows of it (kernel_state), as they send frames.

// mirrorFunc runs a scenario on the kernel (or on something standing in for it).
type mirrorFunc func(ctx context.Context, f *scenario.File) (*verify.Mirror, error)

// kernelSource is a server's way to the kernel: its mirror function. A trace caches the view
// of the source that made it.
type kernelSource struct{ run mirrorFunc }

// KernelAvailable says whether serve --kernel can work here: nil, or why not (it needs bpf()
// and reading kernel memory: root, or CAP_BPF with CAP_PERFMON and CAP_SYS_ADMIN).
func KernelAvailable() error {
	if err := kernelmap.Available(); err != nil {
		return err
	}
	return kernelmap.SnapshotAvailable()
}

// ---- messages ----------------------------------------------------------------------------

// kernelReq asks for the kernel's view of the loaded scenario (again: after "busy").
type kernelReq struct{}

func (kernelReq) kind() string { return "kernel" }

func init() { decoders["kernel"] = func() inMsg { return &kernelReq{} } }

// kernelMsg says whether and how the loaded scenario is mirrored on the kernel, once per load.
type kernelMsg struct {
	Type string `json:"type"` // "kernel"
	// Status is mirrored; unmirrorable (Message says why, Line and Col where); unavailable
	// (bpf() failed here); busy (try again: send kernel); failed; off (no --kernel).
	Status  string `json:"status"`
	Message string `json:"message,omitempty"`
	Line    int    `json:"line,omitempty"`
	Col     int    `json:"col,omitempty"`
	// Host is the machine whose kernel ran it; Notes why its behaviour may differ from the
	// simulation's (another profile, more CPUs, another seed).
	Host  *kernelHost `json:"host,omitempty"`
	Notes []string    `json:"notes,omitempty"`
	// Fresh are the differences of the fresh map's lists; Ops each operation's.
	Fresh []string       `json:"fresh,omitempty"`
	Ops   []kernelOpView `json:"ops,omitempty"`
	// Agree counts the operations whose results, lists after and paths agree.
	Agree     int     `json:"agree"`
	ElapsedMS float64 `json:"elapsed_ms,omitempty"`
}

type kernelHost struct {
	Release string `json:"release"`
	Profile string `json:"profile"`
	CPUs    int    `json:"cpus"`
}

// kernelOpView is one operation on both sides: the results, how many differences its lists
// after have, whether the paths differ.
type kernelOpView struct {
	Op          int    `json:"op"`
	Result      string `json:"result"`
	SimResult   string `json:"sim_result"`
	Lists       int    `json:"lists"`
	PathDiffers bool   `json:"path_differs,omitempty"`
}

// kernelStateMsg is what the kernel's side shows at a position: its lists after the operations
// done there, compared with the simulation's at a boundary, and the path of the latest
// operation begun.
type kernelStateMsg struct {
	Type     string `json:"type"` // "kernel_state"
	Position int    `json:"position"`
	// After is the number of operations done: the lists are the kernel's after operation
	// After-1 (0: the fresh map). Boundary says no operation is in flight at the position: the
	// simulation's lists are those after the same operations, and Diffs compare them.
	After    int              `json:"after"`
	Boundary bool             `json:"boundary"`
	Lists    []kernelListView `json:"lists"`
	Diffs    []string         `json:"diffs"`
	Path     *kernelPathView  `json:"path,omitempty"`
}

// kernelListView is one of the kernel's lists as a row of chips (as ListView).
type kernelListView struct {
	Name     string       `json:"name"`
	Count    int          `json:"count"`
	Head     []kernelChip `json:"head"`
	Tail     []kernelChip `json:"tail,omitempty"`
	Rotation int          `json:"rotation"`
	// Differs says the list differs from the simulation's (at a boundary); Only that the
	// simulation has no such list (a CPU it does not have).
	Differs bool `json:"differs,omitempty"`
	Only    bool `json:"only,omitempty"`
}

// kernelChip is an element on a kernel list: its key when it is in the table, its reference
// bit, and whether it differs from the simulation's at that place (at a boundary).
type kernelChip struct {
	Elem    int     `json:"e"`
	Key     *uint64 `json:"k,omitempty"`
	Ref     bool    `json:"r,omitempty"`
	Differs bool    `json:"d,omitempty"`
}

// kernelPathView is the kernel's inferred path of one operation, drawn on the diagrams as the
// frame's paths are (nodes, edges, jumps), with the evidence and how it differs from the
// simulation's.
type kernelPathView struct {
	Op        int        `json:"op"`
	Text      string     `json:"text"`
	Result    string     `json:"result"`
	SimResult string     `json:"sim_result"`
	Nodes     []string   `json:"nodes"`
	Edges     []string   `json:"edges"`
	Jumps     []JumpView `json:"jumps,omitempty"`
	// Fork: where the states cannot tell which way the kernel went.
	Fork *verify.Fork `json:"fork,omitempty"`
	// Facts say what the states show; Odd what does not fit.
	Facts []string `json:"facts"`
	Odd   []string `json:"odd,omitempty"`
	// Sim is the simulation's path of the operation; Differs how the two differ, in words
	// (none: the same); OnlyKernel the nodes only the kernel passed.
	Sim        []string `json:"sim"`
	Differs    []string `json:"differs,omitempty"`
	OnlyKernel []string `json:"only_kernel,omitempty"`
}

// ---- the view of a trace, derived once ----------------------------------------------------

// kernelView is a trace's mirror and everything compared with it.
type kernelView struct {
	src    *kernelSource
	status string
	msg    []byte // the kernel message, encoded once
	mr     *verify.Mirror
	// states[k] are the differences between the simulation's lists and the kernel's after k
	// operations (at most maxElemDiffs of elements, texts cut to maxDiffText), totals[k] how
	// many there are in all; paths, pathDiffs and sims by operation.
	states    [][]verify.StateDiff
	totals    []int
	simLists  map[string]bool // the simulation's lists, by name
	paths     []verify.Path
	pathDiffs [][]string
	sims      [][]string
	bytes     int64
}

// errKernelBusy: no computation slot came in time.
var errKernelBusy = errors.New("the server is busy computing; ask again in a moment")

// kernelFor returns t's kernel view, computing it (once per trace and source) on first use. A
// view that could not be computed for now (busy, stopping, over the memory budget) is not
// kept: the next ask tries again.
func (s *Server) kernelFor(ctx context.Context, t *Trace) *kernelView {
	t.kmu.Lock()
	defer t.kmu.Unlock()
	if t.kview != nil && t.kview.src == s.kernel {
		return t.kview
	}
	kv, keep := s.computeKernel(ctx, t)
	if keep {
		if t.kview != nil && t.entry != nil {
			s.store.adjust(t.entry, -t.kview.bytes)
		}
		t.kview = kv
	}
	return kv
}

// computeKernel mirrors t's scenario and compares it with the trace. keep is false for a
// transient failure.
func (s *Server) computeKernel(ctx context.Context, t *Trace) (kv *kernelView, keep bool) {
	kv = &kernelView{src: s.kernel}
	msg := kernelMsg{Type: "kernel"}
	done := func(status, text string, line, col int) (*kernelView, bool) {
		kv.status = status
		msg.Status, msg.Message, msg.Line, msg.Col = status, text, line, col
		kv.msg, _ = json.Marshal(msg)
		return kv, status != "busy" && status != "stopping" && status != "memory"
	}
	name := "script.lru"
	if t.Name != "" {
		name = t.Name + ".lru"
	}
	f, err := scenario.Parse(name, []byte(t.Source))
	if err != nil {
		return done("failed", "the scenario does not parse: "+err.Error(), 0, 0) // it did when loaded: not reached
	}
	// The mirror, and what is kept of each operation's comparison (about 8 KB at most).
	cost := verify.MirrorCost(f, f.Map.CPUs, 8<<10)
	if t.entry != nil {
		if err := s.store.grow(t.entry, cost); err != nil {
			return done("memory", err.Error(), 0, 0)
		}
	}
	release := func(n int64) {
		if t.entry != nil {
			s.store.adjust(t.entry, -n)
		}
	}
	slot, err := s.store.slot(ctx, s.store.big)
	if err != nil {
		release(cost)
		if errors.Is(err, errBusy) {
			return done("busy", errKernelBusy.Error(), 0, 0)
		}
		return done("stopping", err.Error(), 0, 0)
	}
	mr, err := s.kernel.run(ctx, f)
	slot()
	if err != nil {
		release(cost)
		var u *verify.Unmirrorable
		switch {
		case errors.As(err, &u):
			return done("unmirrorable", "The kernel cannot run this scenario step by step: "+u.Reason+".", u.Pos.Line, u.Pos.Col)
		case errors.Is(err, verify.ErrUnavailable):
			return done("unavailable", err.Error(), 0, 0)
		case ctx.Err() != nil:
			return done("stopping", err.Error(), 0, 0)
		}
		s.opts.Logf("lruviz serve: the kernel's side of %s: %v", name, err)
		return done("failed", err.Error(), 0, 0)
	}
	kv.mr = mr
	kv.derive(t)
	msg.Host = &kernelHost{Release: mr.Release, Profile: mr.Profile, CPUs: mr.CPUs}
	msg.Notes = mr.Notes
	msg.ElapsedMS = float64(mr.Elapsed.Microseconds()) / 1000
	msg.Fresh = kv.diffTexts(0)
	tl := t.Timeline
	for i := range kv.paths {
		o := kernelOpView{Op: i, Result: mr.Results[i], Lists: kv.totals[i+1], PathDiffers: kv.pathDiffs[i] != nil}
		if i < len(tl.Ops) {
			o.SimResult = tl.Ops[i].Result
		}
		if o.Result == o.SimResult && o.Lists == 0 && !o.PathDiffers {
			msg.Agree++
		}
		msg.Ops = append(msg.Ops, o)
	}
	kv, keep = done("mirrored", "", 0, 0)
	kv.bytes = mr.Bytes() + int64(len(kv.msg))
	for _, ds := range kv.states {
		for _, d := range ds {
			kv.bytes += int64(len(d.What)+len(d.List)+len(d.Sim)+len(d.Kernel)+8*len(d.Marks)) + 96
		}
	}
	for i := range kv.paths {
		kv.bytes += int64(len(kv.paths[i].Nodes)+len(kv.sims[i]))*24 + 512
	}
	// The reservation made good: what the view holds, whether more or less.
	release(cost - kv.bytes)
	return kv, keep
}

// derive compares the mirror with the trace: the lists at every operation boundary, and each
// operation's path.
func (kv *kernelView) derive(t *Trace) {
	tl, mr := t.Timeline, kv.mr
	n := len(mr.Ops)
	kv.states = make([][]verify.StateDiff, n+1)
	kv.totals = make([]int, n+1)
	kv.paths = make([]verify.Path, n)
	kv.pathDiffs = make([][]string, n)
	kv.sims = make([][]string, n)
	var st *trace.State
	for k := 0; k <= n; k++ {
		pos := 0
		if k > 0 {
			if k-1 >= len(tl.Ops) || tl.Ops[k-1].End < 0 {
				// The simulation stopped before (a failed expect): nothing to compare.
				kv.states[k] = nil
				continue
			}
			pos = tl.Ops[k-1].End
		}
		st = tl.StateAt(pos, st)
		if kv.simLists == nil {
			kv.simLists = map[string]bool{}
			for _, name := range st.Lists() {
				kv.simLists[name] = true
			}
		}
		kv.states[k], kv.totals[k] = keepDiffs(verify.DiffStates(verify.TraceState(st, t.Header), verify.KernelState(mr.Snapshots[k])))
	}
	for i := range n {
		kv.paths[i] = mr.Path(i)
		if i < len(tl.Ops) {
			for _, si := range tl.Ops[i].Steps {
				kv.sims[i] = append(kv.sims[i], tl.Steps[si].Node())
			}
		}
		kv.pathDiffs[i] = verify.ComparePath(kv.paths[i], kv.sims[i])
	}
}

// Bounds on the differences kept for each operation boundary: a map whose every element
// differs (another profile, another CPU count) would otherwise keep a difference per element
// per operation.
const (
	maxElemDiffs = 64
	maxDiffText  = 240
)

// keepDiffs keeps every difference of a list or counter and the first maxElemDiffs of
// elements, each side's text cut to maxDiffText bytes, and returns how many there were.
func keepDiffs(ds []verify.StateDiff) ([]verify.StateDiff, int) {
	var kept []verify.StateDiff
	elems := 0
	for _, d := range ds {
		if d.Elem >= 0 {
			if elems++; elems > maxElemDiffs {
				continue
			}
		}
		d.Sim, d.Kernel = cut(d.Sim), cut(d.Kernel)
		kept = append(kept, d)
	}
	return kept, len(ds)
}

// cut shortens s to at most maxDiffText bytes, at a space, marking the cut.
func cut(s string) string {
	if len(s) <= maxDiffText {
		return s
	}
	i := strings.LastIndexByte(s[:maxDiffText], ' ')
	if i < 0 {
		i = maxDiffText
	}
	return s[:i] + " …"
}

// diffTexts writes the differences after k operations in words, and how many are left out.
func (kv *kernelView) diffTexts(k int) []string {
	out := []string{}
	for _, d := range kv.states[k] {
		out = append(out, d.String())
	}
	if more := kv.totals[k] - len(kv.states[k]); more > 0 {
		out = append(out, fmt.Sprintf("… and %d more elements differ", more))
	}
	return out
}

// stateAt builds the kernel_state message at position pos of trace t.
func (kv *kernelView) stateAt(s *Server, t *Trace, pos int) *kernelStateMsg {
	after, begun := kv.where(t, pos)
	m := &kernelStateMsg{Type: "kernel_state", Position: pos, After: after, Boundary: after == begun, Lists: []kernelListView{}, Diffs: []string{}}
	snap := kv.mr.Snapshots[after]
	var diffs []verify.StateDiff
	if m.Boundary {
		diffs = kv.states[after]
		m.Diffs = kv.diffTexts(after)
	}
	marks := verify.MarksOf(diffs)
	rotation := map[string]int{}
	for _, l := range snap.LRU {
		rotation[l.Name+".inactive"] = l.NextInactiveRotation
	}
	for _, l := range snap.Lists() {
		v := kernelListView{Name: l.Name, Count: len(l.Elems), Head: []kernelChip{}, Rotation: -2, Differs: marks.List(l.Name), Only: !kv.simLists[l.Name]}
		if r, ok := rotation[l.Name]; ok {
			v.Rotation = r
		}
		chip := func(place, e int) kernelChip {
			c := kernelChip{Elem: e, Ref: snap.Nodes[e].Ref != 0, Differs: marks.Elem(l.Name, place, e)}
			if verify.InTable(snap, e) {
				k := snap.Nodes[e].Key
				c.Key = &k
			}
			return c
		}
		if len(l.Elems) > listHead+listTail+1 {
			for i := range listHead {
				v.Head = append(v.Head, chip(i, l.Elems[i]))
			}
			for i := len(l.Elems) - listTail; i < len(l.Elems); i++ {
				v.Tail = append(v.Tail, chip(i, l.Elems[i]))
			}
		} else {
			for i, e := range l.Elems {
				v.Head = append(v.Head, chip(i, e))
			}
		}
		m.Lists = append(m.Lists, v)
	}
	if op := begun - 1; op >= 0 && op < len(kv.paths) {
		m.Path = kv.pathView(s, t, op)
	}
	return m
}

// where returns, at position pos, the operations done and the operations begun (sequential:
// in order).
func (kv *kernelView) where(t *Trace, pos int) (after, begun int) {
	ops := t.Timeline.Ops
	n := min(len(ops), len(kv.mr.Ops))
	after = sort.Search(n, func(i int) bool { return ops[i].End < 0 || ops[i].End > pos })
	begun = sort.Search(n, func(i int) bool { return ops[i].Begin < 0 || ops[i].Begin > pos })
	return after, begun
}

// pathView projects operation op's inferred path onto the diagrams shown.
func (kv *kernelView) pathView(s *Server, t *Trace, op int) *kernelPathView {
	p := kv.paths[op]
	v := &kernelPathView{Op: op, Result: kv.mr.Results[op], Nodes: []string{}, Edges: []string{}, Fork: p.Fork,
		Facts: p.Facts, Odd: p.Odd, Sim: kv.sims[op], Differs: kv.pathDiffs[op]}
	if v.Sim == nil {
		v.Sim = []string{}
	}
	if op < len(t.Header.Ops) {
		v.Text = t.Header.Ops[op].Text
	}
	if op < len(t.Timeline.Ops) {
		v.SimResult = t.Timeline.Ops[op].Result
	}
	inSim := map[string]bool{}
	for _, n := range kv.sims[op] {
		inSim[n] = true
	}
	seen := map[string]bool{}
	for _, n := range p.Nodes {
		if !inSim[n] && !seen[n] {
			v.OnlyKernel = append(v.OnlyKernel, n)
		}
		seen[n] = true
	}
	ch := chart.Trace()
	seen = map[string]bool{}
	for di, d := range s.diagrams {
		proj := trace.NewProjector(ch, d)
		for i, n := range p.Nodes {
			gap := ""
			if p.Fork != nil && i == p.Fork.At {
				gap = "the kernel's states cannot tell which way it went here: " + p.Fork.Why
			}
			m, ok := proj.Node(n, gap)
			if !ok {
				continue
			}
			if !seen["n:"+m.To] {
				seen["n:"+m.To] = true
				v.Nodes = append(v.Nodes, m.To)
			}
			if m.From == "" {
				continue
			}
			if !m.Edge {
				v.Jumps = append(v.Jumps, JumpView{Diagram: s.views[di].Name, From: m.From, To: m.To, Reason: m.Reason})
				continue
			}
			if id := m.From + "->" + m.To; !seen["e:"+id] {
				seen["e:"+id] = true
				v.Edges = append(v.Edges, id)
			}
		}
	}
	return v
}

// ---- the session's side ---------------------------------------------------------------------

// kernelLoaded sends the kernel message of the session's trace (computing the view if need
// be) and the kernel's state at the position, on a server with --kernel.
func (ss *session) kernelLoaded() error {
	if ss.srv.kernel == nil || ss.tr == nil {
		return nil
	}
	kv := ss.srv.kernelFor(ss.srv.ctx, ss.tr)
	ss.kv, ss.klast = kv, [3]int{-1, -1, -1}
	if err := ss.writeRaw(kv.msg); err != nil {
		return err
	}
	return ss.kernelMoved()
}

// kernelMoved sends the kernel's state at the session's position when what it shows changed
// since the last one sent: the operations done or begun.
func (ss *session) kernelMoved() error {
	kv := ss.kv
	if kv == nil || kv.mr == nil || ss.tr == nil || ss.cur == nil {
		return nil
	}
	pos := ss.cur.Position()
	after, begun := kv.where(ss.tr, pos)
	key := [3]int{after, begun, 0}
	if key == ss.klast {
		return nil
	}
	ss.klast = key
	b, err := json.Marshal(kv.stateAt(ss.srv, ss.tr, pos))
	if err != nil {
		return err
	}
	return ss.writeRaw(b)
}

// kernelAsked answers a kernel request.
func (ss *session) kernelAsked() error {
	if ss.srv.kernel == nil {
		b, _ := json.Marshal(kernelMsg{Type: "kernel", Status: "off",
			Message: "The server was started without --kernel: lruviz serve --kernel (as root) runs each sequential scenario on the kernel too."})
		return ss.writeRaw(b)
	}
	if ss.tr == nil {
		return ss.fail("kernel", "no scenario is loaded")
	}
	return ss.kernelLoaded()
}

// kernelServer sets up a server's way to the kernel: opts.kernelRun (tests), or the running
// kernel, which must be usable.
func (s *Server) kernelServer() error {
	if !s.opts.Kernel {
		return nil
	}
	run := s.opts.kernelRun
	if run == nil {
		if err := KernelAvailable(); err != nil {
			return fmt.Errorf("--kernel: %w", err)
		}
		run = func(ctx context.Context, f *scenario.File) (*verify.Mirror, error) {
			return verify.RunMirror(ctx, f, verify.DefaultMirrorLimits)
		}
	}
	s.kernel = &kernelSource{run: run}
	return nil
}
