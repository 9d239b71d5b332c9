// SPDX-License-Identifier: GPL-2.0-only

package scenario

import (
	"errors"
	"io"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/lruviz/lruviz/engine"
	"github.com/lruviz/lruviz/trace"
)

// NewMap creates the simulated map a scenario declares. A map the kernel would refuse to create
// is an *Error at the map statement that names the errno.
func NewMap(f *File, tr trace.Tracer) (*engine.Map, error) {
	prof, ok := engine.ProfileByName(f.Map.Kernel)
	if !ok {
		return nil, &Error{File: f.Name, Line: f.Map.Pos.Line, Col: f.Map.Pos.Col, Msg: "unknown kernel profile " + strconv.Quote(f.Map.Kernel)}
	}
	if f.Map.VirtSpinLock {
		p := *prof
		p.VirtSpinLock = true
		prof = &p
	}
	spec := engine.MapSpec{Type: f.Map.Type, Seed: f.Map.Seed}
	if f.Map.NoCommonLRU {
		spec.Flags = engine.NoCommonLRU
	}
	pos := f.Map.EntriesPos
	if pos.Line == 0 {
		pos = f.Map.Pos
	}
	if f.Map.Entries > 1<<32-1 {
		return nil, &Error{File: f.Name, Line: pos.Line, Col: pos.Col, Msg: "the kernel refuses this map with -EINVAL: max_entries does not fit in 32 bits"}
	}
	spec.MaxEntries = uint32(f.Map.Entries)
	m, err := engine.NewMap(spec, engine.Options{CPUs: f.Map.CPUs, Profile: prof, Tracer: tr})
	if err != nil {
		var ce *engine.CreateError
		if errors.As(err, &ce) {
			msg := "the kernel refuses this map with " + engine.ErrName(ce.Errno) + ": " + ce.Reason
			if ce.Errno == syscall.ENOMEM {
				msg = "this map is too large to simulate: " + ce.Reason
			}
			return nil, &Error{File: f.Name, Line: pos.Line, Col: pos.Col, Msg: msg}
		}
		return nil, err
	}
	return m, nil
}

// EngineOp converts an operation to the engine's form.
func EngineOp(op *Op) engine.Op {
	e := engine.Op{Index: op.Index, CPU: op.CPU, Key: op.Key, Value: op.Value, Flags: engine.UpdateFlags(op.Flags)}
	switch op.Name {
	case OpUpdate:
		e.Kind = engine.OpUpdate
	case OpLookup:
		e.Kind = engine.OpLookup
	case OpSysLookup:
		e.Kind = engine.OpSysLookup
	case OpDelete:
		e.Kind = engine.OpDelete
	}
	return e
}

// ResultText is an operation's result as scenarios and `lruviz run` write it: "0" or an errno
// name for updates and deletes, the value in decimal (or an errno name) for lookups, DEADLOCK.
func ResultText(op *Op, r engine.Result) string {
	if op.Name == OpLookup || op.Name == OpSysLookup {
		return r.LookupString()
	}
	return r.String()
}

// Failure is the first expectation of a scenario that did not hold.
type Failure struct {
	File string
	Pos  Pos
	Want string
	Got  string
}

// Error formats the failure as `lruviz run` prints it: FILE:LINE: expected X, got Y.
func (f *Failure) Error() string {
	return f.File + ":" + strconv.Itoa(f.Pos.Line) + ": expected " + f.Want + ", got " + f.Got
}

// Done reports an operation as it finishes: the operation and its result text.
type Done func(op *Op, result string)

// Run runs a scenario's statements on m, in order, calling done as each operation finishes. It
// stops at the first `expect` that does not hold and returns it as a *Failure (a parallel group
// is finished first; its operations' expectations are judged in the order they finish). While it
// runs it holds m's eviction hook (Map.OnEvict), for `expect evicted`. A CPU
// that gets stuck (it spins for ever on a lock that can never come to it) ends its unfinished
// operations in that group with DEADLOCK while the other CPUs finish theirs; it stays stuck, so
// every later operation on it ends with DEADLOCK at once, and the statements after go on.
func Run(f *File, m *engine.Map, done Done) *Failure {
	return RunWith(f, m, done, RunOptions{})
}

// RunWith is Run with hooks into the parallel groups (RunOptions).
func RunWith(f *File, m *engine.Map, done Done, opt RunOptions) *Failure {
	fail, _ := run(f.Name, &bodyStmts{body: f.Body}, needsLocks(f), m, done, opt)
	return fail
}

// RunDecoder is Run for a scenario read as it runs: f is d's Header. A statement that does not
// parse ends the run with its *Error, after the statements before it have run.
func RunDecoder(d *Decoder, m *engine.Map, done Done) (*Failure, error) {
	f, err := d.Header()
	if err != nil {
		return nil, err
	}
	// Whether an assertion about locks comes is not known in advance: the lock log is kept
	// from the start (it records lock events only for a statement that is asserted about).
	return run(f.Name, d, true, m, done, RunOptions{})
}

// stmtSource gives the top-level statements in order, io.EOF after the last.
type stmtSource interface {
	Next() (Stmt, error)
}

type bodyStmts struct {
	body []Stmt
	i    int
}

func (b *bodyStmts) Next() (Stmt, error) {
	if b.i == len(b.body) {
		return nil, io.EOF
	}
	b.i++
	return b.body[b.i-1], nil
}

// runs reports whether a statement runs operations (the others check what the last one did).
func runs(st Stmt) bool {
	switch st.(type) {
	case *Op, *Interrupt, *Parallel:
		return true
	}
	return false
}

// isLockAssert reports whether st asserts about the lock events of the statement before it.
func isLockAssert(st Stmt) bool {
	if a, ok := st.(*Assert); ok {
		switch a.Kind {
		case AssertTook, AssertWaited, AssertFailed, AssertWaits, AssertUntaken, AssertOrder:
			return true
		}
	}
	return false
}

// run runs the statements of src; with withLocks, lock events are logged for the lock
// assertions. Each statement that runs is read together with the checks that follow it, so
// that its lock events are kept only when they are asserted about.
func run(name string, src stmtSource, withLocks bool, m *engine.Map, done Done, opt RunOptions) (fail *Failure, err error) {
	if done == nil {
		done = func(*Op, string) {}
	}
	// ops are the operations of the statement running, by index - base: a statement's
	// operations have consecutive indexes.
	var ops []*Op
	base := 0
	judge := func(op *Op, got string) {
		done(op, got)
		if fail == nil && op.Expect != nil && op.Expect.Text != got {
			fail = &Failure{File: name, Pos: op.Expect.Pos, Want: op.Expect.Text, Got: got}
		}
	}
	onEngine := func(eop engine.Op, r engine.Result) {
		op := ops[eop.Index-base]
		judge(op, ResultText(op, r))
	}
	// evicted holds the keys the last operation or group evicted; locks its lock events, when
	// an assertion asks about them.
	var evicted []uint64
	m.OnEvict(func(key uint64) { evicted = append(evicted, key) })
	defer m.OnEvict(nil)
	var locks *lockLog
	if withLocks {
		locks = &lockLog{inner: m.Tracer(), held: map[int][]string{}}
		m.SetTracer(locks)
		defer m.SetTracer(locks.inner)
	}
	next, err := src.Next()
	var checks []Stmt
	for err == nil {
		st := next
		checks = checks[:0]
		if runs(st) {
			// Read the checks that follow, up to the next statement that runs.
			for next, err = src.Next(); err == nil && !runs(next); next, err = src.Next() {
				checks = append(checks, next)
			}
			ops, base = statementOps(ops[:0], st)
			evicted = evicted[:0]
			if locks != nil {
				locks.events = locks.events[:0]
				locks.recording = slices.ContainsFunc(checks, isLockAssert)
			}
			runStmt(name, st, m, judge, onEngine, &fail, opt)
		} else {
			checks = append(checks, st) // checks before anything ran
			next, err = src.Next()
		}
		for _, c := range checks {
			switch s := c.(type) {
			case *ExpectKeys:
				got := KeysText(m.Keys())
				if want := KeysText(s.Keys); fail == nil && want != got {
					fail = &Failure{File: name, Pos: s.Pos, Want: want, Got: got}
				}
			case *Assert:
				if want, got, ok := check(s, m, evicted, locks); fail == nil && !ok {
					fail = &Failure{File: name, Pos: s.Pos, Want: want, Got: got}
				}
			}
		}
		if fail != nil {
			return fail, nil
		}
	}
	if err == io.EOF {
		err = nil
	}
	return nil, err
}

// statementOps appends the operations of st to ops, in index order, and returns them with
// the first one's index.
func statementOps(ops []*Op, st Stmt) ([]*Op, int) {
	switch s := st.(type) {
	case *Op:
		ops = append(ops, s)
	case *Interrupt:
		ops = append(ops, s.Victim)
		ops = append(ops, s.Handler...)
	case *Parallel:
		for _, b := range s.Body {
			ops, _ = statementOps(ops, b)
		}
	}
	if len(ops) == 0 {
		return ops, 0
	}
	return ops, ops[0].Index
}

// runStmt runs one statement that runs operations; fail is the run's first failure.
func runStmt(name string, st Stmt, m *engine.Map, judge func(*Op, string), onEngine func(engine.Op, engine.Result), fail **Failure, opt RunOptions) {
	switch s := st.(type) {
	case *Op:
		r := m.Exec(EngineOp(s))
		judge(s, ResultText(s, r))
	case *Interrupt:
		err := m.Run(engine.Group{Tasks: []engine.Task{interruptTask(s)}}, onEngine)
		*fail = firstFailure(*fail, name, err, s)
	case *Parallel:
		err := m.Run(engineGroup(s, opt), onEngine)
		var ie *engine.InterruptError
		if errors.As(err, &ie) {
			for _, b := range s.Body {
				if in, ok := b.(*Interrupt); ok && in.Victim.Index == ie.Op {
					*fail = firstFailure(*fail, name, err, in)
				}
			}
		}
	}
}

// check judges an Assert on m's state now; evicted are the keys the last operation or group
// evicted, locks its lock events. want and got are the failure's words.
func check(a *Assert, m *engine.Map, evicted []uint64, locks *lockLog) (want, got string, ok bool) {
	switch a.Kind {
	case AssertTook, AssertWaited, AssertFailed, AssertWaits, AssertUntaken, AssertOrder:
		return locks.check(a)
	case AssertEvicted:
		keys := slices.Compact(slices.Sorted(slices.Values(evicted)))
		return "evicted " + KeysText(a.Keys), "evicted " + KeysText(keys), slices.Equal(keys, a.Keys)
	case AssertNextSteal:
		v := m.SnapshotView()
		w := "next_steal of cpu " + strconv.Itoa(a.CPU) + " = "
		return w + strconv.Itoa(a.N), w + strconv.Itoa(v.NextSteal[a.CPU]), v.NextSteal[a.CPU] == a.N
	}
	v := m.SnapshotView()
	switch a.Kind {
	case AssertList, AssertCount:
		var elems []ListElem
		for _, l := range v.Lists {
			if l.Name == a.List {
				for _, x := range l.Elems {
					if e := v.Elems[x]; e.Linked {
						elems = append(elems, ListElem{Key: e.Key})
					} else {
						elems = append(elems, ListElem{NoKey: true})
					}
				}
			}
		}
		if a.Kind == AssertCount {
			w := " on " + a.List
			return strconv.Itoa(a.N) + w, strconv.Itoa(len(elems)) + w, len(elems) == a.N
		}
		return a.List + ": " + elemsText(a.Elems), a.List + ": " + elemsText(elems), slices.Equal(elems, a.Elems)
	}
	// ref, noref: each key's element in the hash table.
	wantRef := a.Kind == AssertRef
	ok = true
	var states []string
	for _, k := range a.Keys {
		st := "not in the map: " + strconv.FormatUint(k, 10)
		for _, e := range v.Elems {
			if e.Linked && e.Key == k {
				st = "noref " + strconv.FormatUint(k, 10)
				if e.Ref {
					st = "ref " + strconv.FormatUint(k, 10)
				}
				ok = ok && e.Ref == wantRef
				break
			}
		}
		if strings.HasPrefix(st, "not") {
			ok = false
		}
		states = append(states, st)
	}
	return a.Kind + " " + KeysText(a.Keys), strings.Join(states, ", "), ok
}

// needsLocks reports whether a scenario asserts anything about lock events.
func needsLocks(f *File) bool { return slices.ContainsFunc(f.Body, isLockAssert) }

// lockLog is a tracer that passes every event on to inner and keeps the lock events of the
// statement running, each with the locks its CPU held just before it.
type lockLog struct {
	inner     trace.Tracer
	held      map[int][]string // by CPU: the locks it holds now, in the order taken
	events    []lockEvent
	recording bool // keep the lock events of the statement running (an assertion follows it)
}

type lockEvent struct {
	cpu                        int
	kind                       trace.Kind
	lock, class, result, check string
	holding                    []string
}

// Event implements trace.Tracer.
func (l *lockLog) Event(ev *trace.Event) {
	if l.inner != nil {
		l.inner.Event(ev)
	}
	switch ev.Kind {
	case trace.KindLock, trace.KindLockWait, trace.KindLockFailed, trace.KindUnlock:
	default:
		return
	}
	h := l.held[int(ev.CPU)]
	if l.recording && ev.Kind != trace.KindUnlock {
		l.events = append(l.events, lockEvent{cpu: int(ev.CPU), kind: ev.Kind, lock: ev.Lock(), class: ev.Class(),
			result: ev.Result(), check: ev.Check(), holding: slices.Clone(h)})
	}
	switch ev.Kind {
	case trace.KindLock:
		l.held[int(ev.CPU)] = append(h, ev.Lock())
	case trace.KindUnlock:
		if i := slices.Index(h, ev.Lock()); i >= 0 {
			l.held[int(ev.CPU)] = slices.Delete(h, i, i+1)
		}
	}
}

// Batch takes a batch of events as Event takes them one by one.
func (l *lockLog) Batch(evs []trace.Event) {
	for i := range evs {
		l.Event(&evs[i])
	}
}

// check judges a took, waited, failed or waits assertion on the lock events of the last
// statement run.
func (l *lockLog) check(a *Assert) (want, got string, ok bool) {
	cpu := "cpu " + strconv.Itoa(a.CPU) + " "
	switch a.Kind {
	case AssertWaits:
		n := 0
		for _, e := range l.events {
			if e.kind == trace.KindLockWait {
				n++
			}
		}
		return strconv.Itoa(a.N) + " lock waits", strconv.Itoa(n) + " lock waits", n == a.N
	case AssertOrder:
		var cpus []int
		for _, e := range l.events {
			if e.kind == trace.KindLock && e.lock == a.Lock {
				cpus = append(cpus, e.cpu)
			}
		}
		text := func(cpus []int) string {
			if len(cpus) == 0 {
				return a.Lock + " taken by nobody"
			}
			var b strings.Builder
			b.WriteString(a.Lock + " taken by cpu")
			for _, c := range cpus {
				b.WriteString(" " + strconv.Itoa(c))
			}
			return b.String()
		}
		return text(a.CPUs), text(cpus), slices.Equal(cpus, a.CPUs)
	case AssertUntaken:
		for _, e := range l.events {
			if e.lock == a.Lock {
				what := map[trace.Kind]string{trace.KindLock: "took", trace.KindLockWait: "waited for",
					trace.KindLockFailed: "failed to take"}[e.kind]
				return "nobody took " + a.Lock, "cpu " + strconv.Itoa(e.cpu) + " " + what + " " + a.Lock, false
			}
		}
		return "nobody took " + a.Lock, "nobody took " + a.Lock, true
	case AssertWaited:
		want = cpu + "waited for " + a.Lock
		for _, e := range l.events {
			if e.cpu == a.CPU && e.kind == trace.KindLockWait && e.lock == a.Lock {
				return want, want, true
			}
		}
		return want, cpu + "never waited for " + a.Lock, false
	case AssertFailed:
		want = cpu + "failed to take " + a.Lock + " with " + a.Result
		if a.Check != "" {
			want += " (" + a.Check + ")"
		}
		got = cpu + "never failed to take " + a.Lock
		for _, e := range l.events {
			if e.cpu != a.CPU || e.kind != trace.KindLockFailed || e.lock != a.Lock {
				continue
			}
			if e.result == a.Result && (a.Check == "" || e.check == a.Check) {
				return want, want, true
			}
			got = cpu + "failed to take " + a.Lock + " with " + e.result + " (" + e.check + ")"
		}
		return want, got, false
	}
	want = cpu + "took " + a.Lock
	if a.Class != "" {
		want += " as " + a.Class
	}
	if len(a.Holding) > 0 {
		want += " holding " + strings.Join(a.Holding, " ")
	}
	got = cpu + "never took " + a.Lock
	first := true
	for _, e := range l.events {
		if e.cpu != a.CPU || e.kind != trace.KindLock || e.lock != a.Lock {
			continue
		}
		held := true
		for _, h := range a.Holding {
			held = held && slices.Contains(e.holding, h)
		}
		if held && (a.Class == "" || e.class == a.Class) {
			return want, want, true
		}
		if first {
			got = cpu + "took " + a.Lock + " as " + e.class + " holding " + orNothing(e.holding)
			first = false
		}
	}
	return want, got, false
}

func orNothing(locks []string) string {
	if len(locks) == 0 {
		return "nothing"
	}
	return strings.Join(locks, " ")
}

// elemsText writes a list's elements as `expect list` does, "(empty)" for none.
func elemsText(elems []ListElem) string {
	if len(elems) == 0 {
		return "(empty)"
	}
	var b strings.Builder
	for i, e := range elems {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(e.String())
	}
	return b.String()
}

func interruptTask(in *Interrupt) engine.Task {
	ei := &engine.Interrupt{At: in.At, Nth: in.Nth}
	for _, h := range in.Handler {
		ei.Handler = append(ei.Handler, EngineOp(h))
	}
	return engine.Task{Op: EngineOp(in.Victim), Interrupt: ei}
}

// firstFailure turns an interrupt that never happened into a failure at its block.
func firstFailure(fail *Failure, name string, err error, in *Interrupt) *Failure {
	var ie *engine.InterruptError
	if fail != nil || !errors.As(err, &ie) || in.Optional {
		return fail
	}
	nth := ""
	if in.Nth > 1 {
		nth = " (time " + strconv.Itoa(in.Nth) + ")"
	}
	return &Failure{File: name, Pos: in.AtPos, Want: "the interrupt at " + in.At + nth,
		Got: "an operation that never passed that point"}
}

// KeysText writes keys as `expect keys` failures print them.
func KeysText(keys []uint64) string {
	if len(keys) == 0 {
		return "(none)"
	}
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(strconv.FormatUint(k, 10))
	}
	return b.String()
}
