// SPDX-License-Identifier: GPL-2.0-only

package trace

import (
	"bufio"
	"cmp"
	"io"
	"slices"
	"strconv"
	"strings"
)

// PerfettoWriter writes a trace in the Chrome trace-event JSON format, which the Perfetto UI
// (ui.perfetto.dev) and chrome://tracing open: an object with "traceEvents", "displayTimeUnit"
// and "metadata". It is a Tracer, so an engine can write its trace as it runs.
//
// It derives the trace with a Deriver and writes each slice when the Deriver hands it over, as
// it ends: its memory does not grow with the trace. The format needs no order among the
// records (the viewers sort them), so the file is written in one pass.
//
// One trace event lasts one microsecond: an event's time stamp is its seq. The trace is one
// process, "lruviz: " and the scenario's title (or file name), with one thread per CPU named
// "cpu N". On a CPU's thread, every operation is a complete ("X") slice named by its text in
// the header's Ops, with its result in the args, and inside it every node it passes is a slice
// that lasts until the operation's next node or its end. An operation that interrupts another on
// the same CPU nests inside the interrupted operation's current node (the Deriver's State lets
// an operation move only while it is on top of its CPU's stack, so it always can). Operations
// that never end last to the end of the trace.
//
// Lock holds are async slices (cat "lock", named by the lock, one id per hold, the class in the
// args); a lock still held when its operation ends with DEADLOCK, or at the end of a trace cut
// short, is released at the end of the trace. Results, gaps, notes, lock waits and failures are
// instants on the operation's thread; the lengths of the LRU lists are counters, one per list,
// starting from the state the header implies; and every node stolen from another CPU's local
// list is a flow arrow from a small "stolen" slice on the victim CPU's thread to the thief's
// current slice.
type PerfettoWriter struct {
	bw  *bufio.Writer
	h   Header
	d   *Deriver
	err error
	b   []byte // the records being written
	// argsAt is where the args object of the record being written starts in b.
	argsAt int

	cur    *Event // the event the Deriver is deriving
	holdID int64  // the last async id given to a lock hold
	flowID int64
	// counted holds the lists whose counter has begun (with its length before the first event).
	counted map[string]bool
	// lingering holds the lock holds that no unlock ended (DEADLOCK, or a trace cut short):
	// they end at the end of the trace, written by Close.
	lingering []Hold
	// While the Deriver finishes, it hands over what is still open in no fixed order; the
	// writer gathers it here and writes it sorted, so that a trace always gives the same file.
	finishing bool
	fSteps    []Step
	fOps      []OpSpan
	closed    bool
}

// Time stamps are kept in quarters of a microsecond, so that the export can place things
// strictly inside an event's microsecond.
const pfQuarter = 4

// NewPerfettoWriter writes the start of the file and the names of the process and of the
// CPUs' threads to w, and returns a writer for the events of a trace with header h, derived
// with the chart ch. Call Close at the end.
func NewPerfettoWriter(w io.Writer, h Header, ch Chart) (*PerfettoWriter, error) {
	d, err := NewDeriver(h, ch)
	if err != nil {
		return nil, err
	}
	d.State().ForgetResults() // the operations' results come with each OpSpan
	p := &PerfettoWriter{bw: bufio.NewWriterSize(w, 64<<10), h: h, d: d, counted: map[string]bool{}}
	d.OnOp, d.OnStep, d.OnHold = p.op, p.step, p.hold
	title := h.Title
	if title == "" {
		title = h.Source
	}
	if title == "" {
		title = "trace"
	}
	b := append(p.b[:0], "{\"traceEvents\":[\n"...)
	b = append(b, `{"ph":"M","pid":1,"name":"process_name","args":{"name":`...)
	b = appendJSONString(b, "lruviz: "+title)
	b = append(b, "}}"...)
	for c := range h.CPUs {
		b = append(b, ",\n"...)
		b = append(b, `{"ph":"M","pid":1,"tid":`...)
		b = strconv.AppendInt(b, int64(c+1), 10)
		b = append(b, `,"name":"thread_name","args":{"name":`...)
		b = appendJSONString(b, "cpu "+strconv.Itoa(c))
		b = append(b, "}},\n"...)
		b = append(b, `{"ph":"M","pid":1,"tid":`...)
		b = strconv.AppendInt(b, int64(c+1), 10)
		b = append(b, `,"name":"thread_sort_index","args":{"sort_index":`...)
		b = strconv.AppendInt(b, int64(c), 10)
		b = append(b, "}}"...)
	}
	p.b = b
	p.flush()
	return p, p.err
}

// WritePerfetto writes a whole trace, derived with the chart ch, to w: a PerfettoWriter fed
// with evs. An error means the trace is not one the engine could have written (the Deriver
// refused it), or a write failed.
func WritePerfetto(w io.Writer, h Header, ch Chart, evs []Event) error {
	p, err := NewPerfettoWriter(w, h, ch)
	if err != nil {
		return err
	}
	for i := range evs {
		p.Event(&evs[i])
	}
	return p.Close()
}

// Event derives ev and writes what it ends. After an error (a trace the Deriver refuses, or
// a failed write) it does nothing; Close returns the error.
func (p *PerfettoWriter) Event(ev *Event) {
	if p.err != nil || p.closed {
		return
	}
	p.cur = ev
	if _, err := p.d.Event(ev); err != nil {
		p.err = err
		return
	}
	p.cur = nil
	tid := int(ev.CPU) + 1
	t4 := ev.Seq * pfQuarter
	switch ev.Kind {
	case KindGap, KindNote:
		p.begin('i', tid, t4, 0, ev.Kind.String(), ev.Kind.String())
		p.args()
		p.b = appendStr(p.b, "reason", ev.Reason())
		p.end(true)
	case KindMove:
		p.lists(ev)
		if victim, ok := stolenFrom(ev); ok && victim < p.h.CPUs {
			p.flowID++
			p.begin('X', victim+1, t4, pfQuarter/2, "stolen", "steal")
			p.args()
			p.b = appendInt(p.b, "elem", int(ev.Elem))
			p.b = appendStr(p.b, "key", strconv.FormatUint(ev.Key, 10))
			p.b = appendStr(p.b, "from", ev.From())
			p.b = appendInt(p.b, "by_cpu", int(ev.CPU))
			p.end(true)
			p.begin('s', victim+1, t4+1, 0, "steal", "steal")
			p.id(p.flowID)
			p.end(false)
			p.begin('f', tid, t4+1, 0, "steal", "steal")
			p.id(p.flowID)
			p.end(false)
		}
	}
	p.flush()
}

// Close ends what is still open at the end of the trace (operations that never ended, their
// nodes and locks), writes the metadata and flushes. It returns the first error met.
func (p *PerfettoWriter) Close() error {
	if p.closed {
		return p.err
	}
	p.closed = true
	if p.err != nil {
		return p.err
	}
	p.finishing = true
	p.d.Finish()
	p.finishing = false
	slices.SortFunc(p.fSteps, func(a, b Step) int { return cmp.Compare(a.From, b.From) })
	for i := range p.fSteps {
		p.step(&p.fSteps[i])
	}
	slices.SortFunc(p.fOps, func(a, b OpSpan) int { return cmp.Compare(a.Op, b.Op) })
	for i := range p.fOps {
		p.op(&p.fOps[i])
	}
	end := int64(p.d.State().Position())
	slices.SortFunc(p.lingering, func(a, b Hold) int {
		return cmp.Or(cmp.Compare(a.From, b.From), strings.Compare(a.Lock(), b.Lock()))
	})
	for i := range p.lingering {
		p.lockSlice(&p.lingering[i], end)
	}
	h := p.h
	b := append(p.b, "\n],\n\"displayTimeUnit\":\"ns\",\n\"metadata\":{"...)
	b = append(b, `"tool":"lruviz"`...)
	b = appendStr(b, "title", h.Title)
	b = appendStr(b, "source", h.Source)
	b = appendStr(b, "profile", h.Profile)
	b = appendStr(b, "map_type", h.Map.Type.String())
	b = appendUint(b, "entries", h.Map.Entries)
	b = append(b, `,"no_common_lru":`...)
	b = strconv.AppendBool(b, h.Map.NoCommonLRU)
	b = appendInt(b, "cpus", h.CPUs)
	b = appendInt(b, "events", int(end))
	b = appendStr(b, "time_unit", "1 us per trace event: ts is the event's seq")
	p.b = append(b, "}}\n"...)
	p.flush()
	if p.err == nil {
		p.err = p.bw.Flush()
	}
	return p.err
}

// op writes an operation's slice, and its result as an instant, when it ends.
func (p *PerfettoWriter) op(o *OpSpan) {
	if p.finishing {
		p.fOps = append(p.fOps, *o)
		return
	}
	begin := int64(o.Begin - 1) // the seq of its op_begin
	end := int64(o.End)         // just past its op_end
	if o.End < 0 {
		end = int64(p.d.State().Position())
	}
	tid := o.CPU + 1
	p.begin('X', tid, begin*pfQuarter, (end-begin)*pfQuarter, p.opName(o), "op")
	p.args()
	p.b = appendInt(p.b, "op", o.Op)
	if o.End >= 0 {
		p.b = appendStr(p.b, "result", o.Result)
	} else {
		p.b = append(p.b, `,"unfinished":true`...)
	}
	if o.Op >= 0 && o.Op < len(p.h.Ops) && len(p.h.Ops[o.Op].Say) > 0 {
		p.b = appendStr(p.b, "say", strings.Join(p.h.Ops[o.Op].Say, " "))
	}
	p.end(true)
	if o.End >= 0 {
		p.begin('i', tid, (end-1)*pfQuarter, 0, "result "+o.Result, "result")
		p.args()
		p.b = appendStr(p.b, "result", o.Result)
		p.end(true)
	}
	p.flush()
}

// step writes a node slice when the operation leaves the node.
func (p *PerfettoWriter) step(s *Step) {
	if p.finishing {
		p.fSteps = append(p.fSteps, *s)
		return
	}
	p.begin('X', int(s.CPU)+1, s.Seq()*pfQuarter, (int64(s.To)-s.Seq())*pfQuarter, s.Node(), "node")
	if s.Idle() {
		p.args()
		p.b = append(p.b, `,"idle":true`...)
		p.end(true)
	} else {
		p.end(false)
	}
	p.flush()
}

// hold writes a lock held as an async slice when it is released, and a spin or a failure as
// an instant where it began.
func (p *PerfettoWriter) hold(h *Hold) {
	switch h.Kind {
	case Held:
		if c := p.cur; c == nil || c.Kind != KindUnlock || c.LockRef() != h.LockRef() {
			// Ended by a DEADLOCK op_end or by the end of the trace, not by an unlock.
			p.lingering = append(p.lingering, *h)
			return
		}
		p.lockSlice(h, p.cur.Seq)
	case Waited, Failed:
		name := "lock_wait"
		if h.Kind == Failed {
			name = "lock_failed"
		}
		p.begin('i', int(h.CPU)+1, int64(h.From-1)*pfQuarter, 0, name, "lock")
		p.lockArgs(h)
		p.end(true)
	}
	p.flush()
}

// lockSlice writes a lock hold that began with the lock event at h.From-1 and ends at seq end.
func (p *PerfettoWriter) lockSlice(h *Hold, end int64) {
	p.holdID++
	p.begin('b', int(h.CPU)+1, int64(h.From-1)*pfQuarter, 0, h.Lock(), "lock")
	p.id(p.holdID)
	p.lockArgs(h)
	p.end(true)
	p.begin('e', int(h.CPU)+1, end*pfQuarter, 0, h.Lock(), "lock")
	p.id(p.holdID)
	p.end(false)
	p.flush()
}

func (p *PerfettoWriter) lockArgs(h *Hold) {
	p.args()
	p.b = appendStr(p.b, "lock", h.Lock())
	p.b = appendStr(p.b, "class", h.Class())
	if h.Kind == Failed {
		p.b = appendStr(p.b, "result", h.Result())
	}
}

// lists writes the counters of the lists a move changes: their lengths after it, and, the
// first time a list moves, its length before the first event.
func (p *PerfettoWriter) lists(ev *Event) {
	s := p.d.State()
	for i, l := range [2]string{ev.From(), ev.To()} {
		if l == "" || (i == 1 && l == ev.From()) {
			continue
		}
		n := s.ListLen(l)
		if !p.counted[l] {
			p.counted[l] = true
			before := n
			if l == ev.From() {
				before++
			}
			if l == ev.To() {
				before--
			}
			p.counter(0, l, before)
		}
		p.counter(ev.Seq*pfQuarter, l, n)
	}
}

func (p *PerfettoWriter) counter(t4 int64, list string, n int) {
	p.begin('C', 0, t4, 0, list, "")
	p.args()
	p.b = appendInt(p.b, "length", n)
	p.end(true)
}

// opName is an operation's slice name: its text in the header, or one made from its op_begin.
func (p *PerfettoWriter) opName(o *OpSpan) string {
	if o.Op >= 0 && o.Op < len(p.h.Ops) && p.h.Ops[o.Op].Text != "" {
		return p.h.Ops[o.Op].Text
	}
	return "cpu " + strconv.Itoa(o.CPU) + " " + o.Name + " " + strconv.FormatUint(o.Key, 10)
}

// begin starts a record: its phase, thread (0: process-wide), time and duration (for "X") in
// quarters of a microsecond, name and category.
func (p *PerfettoWriter) begin(ph byte, tid int, t4, dur4 int64, name, cat string) {
	b := append(p.b, ",\n"...)
	b = append(b, `{"ph":"`...)
	b = append(b, ph, '"')
	b = append(b, `,"pid":1`...)
	if tid != 0 {
		b = appendInt(b, "tid", tid)
	}
	b = append(b, `,"ts":`...)
	b = appendQuarters(b, t4)
	if ph == 'X' {
		b = append(b, `,"dur":`...)
		b = appendQuarters(b, dur4)
	}
	b = appendStr(b, "name", name)
	if cat != "" {
		b = appendStr(b, "cat", cat)
	}
	switch ph {
	case 'i':
		b = append(b, `,"s":"t"`...)
	case 'f':
		b = append(b, `,"bp":"e"`...)
	}
	p.b = b
}

// id writes an async slice's or a flow's id.
func (p *PerfettoWriter) id(id int64) {
	p.b = append(p.b, `,"id":`...)
	p.b = strconv.AppendInt(p.b, id, 10)
}

// args opens the args object: the fields that follow are written as appendStr writes them,
// each after a comma, and the first comma becomes the brace.
func (p *PerfettoWriter) args() {
	p.b = append(p.b, `,"args":`...)
	p.argsAt = len(p.b)
}

// end closes the record (and its args object, if it has one).
func (p *PerfettoWriter) end(args bool) {
	if args {
		if p.argsAt < len(p.b) && p.b[p.argsAt] == ',' {
			p.b[p.argsAt] = '{'
			p.b = append(p.b, '}')
		} else {
			p.b = append(p.b[:p.argsAt-len(`,"args":`)], p.b[p.argsAt:]...) // no fields: no args
		}
	}
	p.b = append(p.b, '}')
}

// flush hands the records written so far to the buffered writer.
func (p *PerfettoWriter) flush() {
	if len(p.b) == 0 {
		return
	}
	if p.err == nil {
		if _, err := p.bw.Write(p.b); err != nil {
			p.err = err
		}
	}
	p.b = p.b[:0]
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
	cpu, rest, ok := cpuList(ev.From())
	if !ok || cpu == int(ev.CPU) || (rest != "local_free" && rest != "pending") {
		return 0, false
	}
	return cpu, true
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
