// SPDX-License-Identifier: GPL-2.0-only

package trace

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// WritePerfetto writes a trace in the Chrome trace-event JSON format, which the Perfetto UI
// (ui.perfetto.dev) and chrome://tracing open: an object with "traceEvents", "displayTimeUnit"
// and "metadata".
//
// One trace event lasts one microsecond: an event's time stamp is its seq. The trace is one
// process, "lruviz: " and the scenario's title (or file name), with one thread per CPU named
// "cpu N". On a CPU's thread, every operation is a complete ("X") slice named by its text in
// h.Ops, with its result in the args, and inside it every flowchart node it passes is a slice
// that lasts until the operation's next node or its end. An operation that interrupts another on
// the same CPU nests inside the interrupted operation's current node; operations that could not
// nest (which the engine never produces) go to a thread of their own, "cpu N (interrupt)".
// Operations that never end, or end with DEADLOCK, last to the end of the trace.
//
// Lock holds are async slices (cat "lock", named by the lock, one id per hold, the class in the
// args); results, gaps, notes, lock waits and failures are instants on the operation's thread; the
// lengths of the LRU lists are counters, one per list, starting from the state the header
// implies; and every node stolen from another CPU's local list is a flow arrow from a small
// "stolen" slice on the victim CPU's thread to the thief's current slice.
//
// Events must be in Seq order. WritePerfetto returns an error if they are not, or a write
// error.
func WritePerfetto(w io.Writer, h Header, evs []Event) error {
	var x pfExport
	if err := x.build(h, evs); err != nil {
		return err
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	x.write(bw, h, len(evs))
	return bw.Flush()
}

// Time stamps are kept in quarters of a microsecond, so that the export can place things
// strictly inside an event's microsecond.
const pfQuarter = 4

// pfMaxCPUs bounds the threads made for the CPUs a header claims.
const pfMaxCPUs = 1024

// pfOp is what the export knows of one operation.
type pfOp struct {
	index  int
	cpu    int
	begin  int64 // seq of its first event
	end    int64 // seq just past its last instant: op_end's seq+1, or the end of the trace
	ended  bool  // it has an op_end
	result string
	first  Event    // its op_begin (or first event)
	nodes  []pfNode // its node slices, in order
	tid    int
	level  int // 0: the CPU's own thread; 1, 2, ...: an interrupt thread
}

type pfNode struct {
	start, end int64 // in seq units, end exclusive
	id         string
	idle       bool
}

// pfRec is one record of "traceEvents".
type pfRec struct {
	t4, dur4 int64
	ph       byte
	tid      int // 0: process-wide
	id       int64
	name     string
	cat      string
	args     [2]int32 // the args object in pfExport.arena, or empty
}

type pfTrack struct {
	cpu, level int
}

type pfExport struct {
	ops    []*pfOp // in the order they begin
	byIdx  map[int]*pfOp
	tids   map[pfTrack]int
	tracks []pfTrack // by tid-1
	recs   []pfRec
	arena  []byte
}

// build computes every record of the export.
func (x *pfExport) build(h Header, evs []Event) error {
	x.byIdx = map[int]*pfOp{}
	x.tids = map[pfTrack]int{}
	// The CPUs' own threads come first: those of the header (tid = cpu+1), then any other CPU
	// the events name, in order.
	var more []int
	for i := range evs {
		if i > 0 && evs[i].Seq <= evs[i-1].Seq {
			return fmt.Errorf("trace: perfetto: event %d has seq %d after seq %d", i, evs[i].Seq, evs[i-1].Seq)
		}
		if c := evs[i].CPU; c < 0 || c >= min(h.CPUs, pfMaxCPUs) {
			more = append(more, c)
		}
	}
	for c := 0; c < min(h.CPUs, pfMaxCPUs); c++ {
		x.track(c, 0)
	}
	slices.Sort(more)
	for _, c := range more {
		x.track(c, 0)
	}
	if len(evs) == 0 {
		return nil
	}
	endOfTrace := evs[len(evs)-1].Seq + 1

	// Pass 1: the operations and their nodes.
	for i := range evs {
		ev := &evs[i]
		op := x.byIdx[ev.Op]
		if op == nil {
			op = &pfOp{index: ev.Op, cpu: ev.CPU, begin: ev.Seq, first: *ev}
			x.byIdx[ev.Op] = op
			x.ops = append(x.ops, op)
		}
		if op.ended {
			continue
		}
		switch ev.Kind {
		case KindNode:
			if n := len(op.nodes); n > 0 {
				op.nodes[n-1].end = ev.Seq
			}
			op.nodes = append(op.nodes, pfNode{start: ev.Seq, id: ev.Node, idle: ev.Idle})
		case KindOpEnd:
			op.ended, op.result, op.end = true, ev.Result, ev.Seq+1
			if n := len(op.nodes); n > 0 {
				op.nodes[n-1].end = ev.Seq
			}
		}
	}
	for _, op := range x.ops {
		if !op.ended {
			op.end = endOfTrace
			if n := len(op.nodes); n > 0 {
				op.nodes[n-1].end = endOfTrace
			}
		}
	}
	x.place()

	// Pass 2: the slices of operations and nodes.
	for _, op := range x.ops {
		x.rec(pfRec{t4: op.begin * pfQuarter, dur4: (op.end - op.begin) * pfQuarter, ph: 'X', tid: op.tid,
			name: opName(h, op), cat: "op", args: x.opArgs(h, op)})
		for _, n := range op.nodes {
			r := pfRec{t4: n.start * pfQuarter, dur4: (n.end - n.start) * pfQuarter, ph: 'X', tid: op.tid, name: n.id, cat: "node"}
			if n.idle {
				r.args = x.args(func(b []byte) []byte { return append(b, `,"idle":true`...) })
			}
			x.rec(r)
		}
	}

	// Pass 3: locks, instants, counters and steals.
	type hold struct {
		id int64
		op int
	}
	holds := map[string][]hold{}
	var nextHold, nextFlow int64
	counts := map[string]int{}
	for i := range evs {
		ev := &evs[i]
		if ev.Kind != KindMove {
			continue
		}
		for _, l := range [2]string{ev.From, ev.To} {
			if _, ok := counts[l]; !ok && l != "" {
				counts[l] = initialLength(h, l)
				x.counter(0, l, counts[l])
			}
		}
	}
	for i := range evs {
		ev := &evs[i]
		op := x.byIdx[ev.Op]
		t4 := ev.Seq * pfQuarter
		switch ev.Kind {
		case KindOpEnd:
			if op.end == ev.Seq+1 { // its first op_end
				x.rec(pfRec{t4: t4, ph: 'i', tid: op.tid, name: "result " + ev.Result, cat: "result",
					args: x.args(func(b []byte) []byte { return appendStr(b, "result", ev.Result) })})
			}
		case KindGap, KindNote:
			x.rec(pfRec{t4: t4, ph: 'i', tid: op.tid, name: ev.Kind.String(), cat: ev.Kind.String(),
				args: x.args(func(b []byte) []byte { return appendStr(b, "reason", ev.Reason) })})
		case KindLock:
			nextHold++
			holds[ev.Lock] = append(holds[ev.Lock], hold{nextHold, ev.Op})
			x.rec(pfRec{t4: t4, ph: 'b', tid: op.tid, id: nextHold, name: ev.Lock, cat: "lock", args: x.lockArgs(ev)})
		case KindUnlock:
			hs := holds[ev.Lock]
			for j := len(hs) - 1; j >= 0; j-- {
				if hs[j].op == ev.Op {
					x.rec(pfRec{t4: t4, ph: 'e', tid: op.tid, id: hs[j].id, name: ev.Lock, cat: "lock"})
					holds[ev.Lock] = slices.Delete(hs, j, j+1)
					break
				}
			}
		case KindLockWait, KindLockFailed:
			x.rec(pfRec{t4: t4, ph: 'i', tid: op.tid, name: ev.Kind.String(), cat: "lock", args: x.lockArgs(ev)})
		case KindMove:
			if ev.From != "" {
				counts[ev.From]--
				x.counter(t4, ev.From, counts[ev.From])
			}
			if ev.To != "" {
				counts[ev.To]++
				x.counter(t4, ev.To, counts[ev.To])
			}
			if victim, ok := stolenFrom(ev); ok && ev.Seq >= op.begin && ev.Seq < op.end {
				nextFlow++
				x.rec(pfRec{t4: t4, dur4: pfQuarter / 2, ph: 'X', tid: x.track(victim, 0), name: "stolen", cat: "steal",
					args: x.args(func(b []byte) []byte {
						b = appendInt(b, "elem", ev.Elem)
						b = appendStr(b, "key", strconv.FormatUint(ev.Key, 10))
						b = appendStr(b, "from", ev.From)
						return appendInt(b, "by_cpu", ev.CPU)
					})})
				x.rec(pfRec{t4: t4 + 1, ph: 's', tid: x.track(victim, 0), id: nextFlow, name: "steal", cat: "steal"})
				x.rec(pfRec{t4: t4 + 1, ph: 'f', tid: op.tid, id: nextFlow, name: "steal", cat: "steal"})
			}
		}
	}
	// Locks still held (a deadlock) are released at the end of the trace.
	for lock, hs := range holds {
		for _, hd := range hs {
			x.rec(pfRec{t4: endOfTrace * pfQuarter, ph: 'e', tid: x.byIdx[hd.op].tid, id: hd.id, name: lock, cat: "lock"})
		}
	}
	rank := func(ph byte) int { return strings.IndexByte("MeCXbisf", ph) }
	slices.SortStableFunc(x.recs, func(a, b pfRec) int {
		return cmp.Or(cmp.Compare(a.t4, b.t4), cmp.Compare(rank(a.ph), rank(b.ph)), cmp.Compare(b.dur4, a.dur4),
			cmp.Compare(a.id, b.id), strings.Compare(a.name, b.name))
	})
	return nil
}

// place puts every operation on a thread: its CPU's own, unless it would overlap a slice there
// without nesting inside it.
func (x *pfExport) place() {
	stacks := map[pfTrack][]*pfOp{} // per thread, the operations still open, outermost first
	for _, op := range x.ops {
		for level := 0; ; level++ {
			t := pfTrack{op.cpu, level}
			st := stacks[t]
			for len(st) > 0 && st[len(st)-1].end <= op.begin {
				st = st[:len(st)-1]
			}
			if len(st) == 0 || nestsIn(op, st[len(st)-1]) {
				op.level, op.tid = level, x.track(op.cpu, level)
				stacks[t] = append(st, op)
				break
			}
			stacks[t] = st
		}
	}
}

// nestsIn reports whether op's slice fits inside parent's without crossing the edge of one of
// parent's node slices.
func nestsIn(op, parent *pfOp) bool {
	if op.end > parent.end {
		return false
	}
	// The first node slice that ends after op begins must contain op or start after it.
	i, _ := slices.BinarySearchFunc(parent.nodes, op.begin, func(n pfNode, t int64) int {
		return cmp.Compare(n.end, t+1)
	})
	if i == len(parent.nodes) {
		return true
	}
	n := parent.nodes[i]
	if n.start <= op.begin {
		return op.end <= n.end
	}
	return n.start >= op.end
}

// track returns the tid of a CPU's thread at an interrupt level, making one if needed.
func (x *pfExport) track(cpu, level int) int {
	t := pfTrack{cpu, level}
	if tid, ok := x.tids[t]; ok {
		return tid
	}
	x.tracks = append(x.tracks, t)
	tid := len(x.tracks)
	x.tids[t] = tid
	return tid
}

func (x *pfExport) rec(r pfRec) { x.recs = append(x.recs, r) }

// args renders an args object into the arena: f appends its fields, each after a comma as
// appendStr writes them, and args turns the first comma into the opening brace.
func (x *pfExport) args(f func(b []byte) []byte) [2]int32 {
	start := len(x.arena)
	x.arena = f(x.arena)
	if len(x.arena) == start {
		return [2]int32{}
	}
	x.arena[start] = '{'
	x.arena = append(x.arena, '}')
	return [2]int32{int32(start), int32(len(x.arena))}
}

func (x *pfExport) lockArgs(ev *Event) [2]int32 {
	return x.args(func(b []byte) []byte {
		b = appendStr(b, "lock", ev.Lock)
		b = appendStr(b, "class", ev.Class)
		if ev.Kind == KindLockFailed {
			b = appendStr(b, "result", ev.Result)
		}
		return b
	})
}

func (x *pfExport) opArgs(h Header, op *pfOp) [2]int32 {
	return x.args(func(b []byte) []byte {
		b = appendInt(b, "op", op.index)
		if op.ended {
			b = appendStr(b, "result", op.result)
		} else {
			b = append(b, `,"unfinished":true`...)
		}
		if op.index >= 0 && op.index < len(h.Ops) && len(h.Ops[op.index].Say) > 0 {
			b = appendStr(b, "say", strings.Join(h.Ops[op.index].Say, " "))
		}
		return b
	})
}

func (x *pfExport) counter(t4 int64, list string, n int) {
	x.rec(pfRec{t4: t4, ph: 'C', name: list, args: x.args(func(b []byte) []byte {
		return appendInt(b, "length", n)
	})})
}

// opName is an operation's slice name: its text in the header, or one made from its op_begin.
func opName(h Header, op *pfOp) string {
	if op.index >= 0 && op.index < len(h.Ops) && h.Ops[op.index].Text != "" {
		return h.Ops[op.index].Text
	}
	s := "cpu " + strconv.Itoa(op.cpu) + " op " + strconv.Itoa(op.index)
	if op.first.Kind == KindOpBegin {
		s = "cpu " + strconv.Itoa(op.cpu) + " " + op.first.Name + " " + strconv.FormatUint(op.first.Key, 10)
	}
	return s
}

// initialLength is the length of a list before the first event, as the Header comment
// describes the initial state.
func initialLength(h Header, list string) int {
	if !h.Map.NoCommonLRU {
		if list == "global.free" {
			return h.Elems
		}
		return 0
	}
	cpu, rest, ok := cpuList(list)
	if ok && rest == "free" && cpu < h.CPUs && h.CPUs > 0 {
		return h.Elems / h.CPUs
	}
	return 0
}

// cpuList splits "cpuN.rest".
func cpuList(list string) (cpu int, rest string, ok bool) {
	num, rest, ok := strings.Cut(strings.TrimPrefix(list, "cpu"), ".")
	if !ok || !strings.HasPrefix(list, "cpu") || num == "" || (len(num) > 1 && num[0] == '0') {
		return 0, "", false
	}
	cpu, err := strconv.Atoi(num)
	if err != nil || cpu < 0 {
		return 0, "", false
	}
	return cpu, rest, true
}

// stolenFrom reports whether a move takes an element from another CPU's local free or pending
// list, and which CPU that is.
func stolenFrom(ev *Event) (int, bool) {
	cpu, rest, ok := cpuList(ev.From)
	if !ok || cpu == ev.CPU || (rest != "local_free" && rest != "pending") {
		return 0, false
	}
	return cpu, true
}

// write writes the records as the trace-event JSON object.
func (x *pfExport) write(bw *bufio.Writer, h Header, nevents int) {
	b := make([]byte, 0, 512)
	b = append(b, "{\"traceEvents\":[\n"...)
	title := h.Title
	if title == "" {
		title = h.Source
	}
	if title == "" {
		title = "trace"
	}
	b = append(b, `{"ph":"M","pid":1,"name":"process_name","args":{"name":`...)
	b = appendJSONString(b, "lruviz: "+title)
	b = append(b, "}}"...)
	for i, t := range x.tracks {
		name := "cpu " + strconv.Itoa(t.cpu)
		switch {
		case t.level == 1:
			name += " (interrupt)"
		case t.level > 1:
			name += " (interrupt " + strconv.Itoa(t.level) + ")"
		}
		b = append(b, ",\n"...)
		b = append(b, `{"ph":"M","pid":1,"tid":`...)
		b = strconv.AppendInt(b, int64(i+1), 10)
		b = append(b, `,"name":"thread_name","args":{"name":`...)
		b = appendJSONString(b, name)
		b = append(b, "}},\n"...)
		b = append(b, `{"ph":"M","pid":1,"tid":`...)
		b = strconv.AppendInt(b, int64(i+1), 10)
		b = append(b, `,"name":"thread_sort_index","args":{"sort_index":`...)
		b = strconv.AppendInt(b, int64(t.cpu)*64+int64(t.level), 10)
		b = append(b, "}}"...)
		bw.Write(b)
		b = b[:0]
	}
	for i := range x.recs {
		b = x.appendRec(append(b, ",\n"...), &x.recs[i])
		if len(b) > 32<<10 {
			bw.Write(b)
			b = b[:0]
		}
	}
	b = append(b, "\n],\n\"displayTimeUnit\":\"ns\",\n\"metadata\":{"...)
	b = append(b, `"tool":"lruviz"`...)
	b = appendStr(b, "title", h.Title)
	b = appendStr(b, "source", h.Source)
	b = appendStr(b, "profile", h.Profile)
	b = appendStr(b, "map_type", h.Map.Type)
	b = appendUint(b, "entries", h.Map.Entries)
	b = append(b, `,"no_common_lru":`...)
	b = strconv.AppendBool(b, h.Map.NoCommonLRU)
	b = appendInt(b, "cpus", h.CPUs)
	b = appendInt(b, "events", nevents)
	b = appendStr(b, "time_unit", "1 us per trace event: ts is the event's seq")
	b = append(b, "}}\n"...)
	bw.Write(b)
}

// appendRec appends one record as a JSON object.
func (x *pfExport) appendRec(b []byte, r *pfRec) []byte {
	b = append(b, `{"ph":"`...)
	b = append(b, r.ph, '"')
	b = append(b, `,"pid":1`...)
	if r.tid != 0 {
		b = appendInt(b, "tid", r.tid)
	}
	b = append(b, `,"ts":`...)
	b = appendQuarters(b, r.t4)
	if r.ph == 'X' {
		b = append(b, `,"dur":`...)
		b = appendQuarters(b, r.dur4)
	}
	b = appendStr(b, "name", r.name)
	if r.cat != "" {
		b = appendStr(b, "cat", r.cat)
	}
	switch r.ph {
	case 'b', 'e', 's', 'f':
		b = append(b, `,"id":`...)
		b = strconv.AppendInt(b, r.id, 10)
	case 'i':
		b = append(b, `,"s":"t"`...)
	}
	if r.ph == 'f' {
		b = append(b, `,"bp":"e"`...)
	}
	if r.args[1] > r.args[0] {
		b = append(b, `,"args":`...)
		b = append(b, x.arena[r.args[0]:r.args[1]]...)
	}
	return append(b, '}')
}

// appendQuarters writes a time in quarters of a microsecond as microseconds.
func appendQuarters(b []byte, q int64) []byte {
	if q < 0 {
		b = append(b, '-')
		q = -q
	}
	b = strconv.AppendInt(b, q/pfQuarter, 10)
	return append(b, [4]string{"", ".25", ".5", ".75"}[q%pfQuarter]...)
}
