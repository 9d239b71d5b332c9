// SPDX-License-Identifier: GPL-2.0-only

package engine

import (
	"errors"
	"fmt"
	"iter"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/lruviz/lruviz/trace"
)

// Interrupt runs Handler operations on top of another operation on the same CPU, when that
// operation passes a trace point: how a tracing program re-enters the map in the middle of a map
// operation (and meets -EBUSY, -EDEADLK, or a lock that will never be released).
type Interrupt struct {
	// At is the trace point: a node id, a lock id (the point right after the lock is taken),
	// wait:LOCK (where the CPU starts to spin on LOCK) or scan:LIST (where a list walk has read
	// an element of LIST).
	At      string
	Nth     int  // the how-many-th time the point is passed, from 1
	Handler []Op // run one after another, each to completion; all on the interrupted CPU
}

// Task is an operation of a group, perhaps interrupted.
type Task struct {
	Op        Op
	Interrupt *Interrupt
}

// Step is one item of an explicit schedule. A step whose CPU has finished, or spins while
// another CPU can run, is skipped; a Count or Until step whose CPU spins while every CPU spins
// waits while time passes (rqspinlock checks), as a seeded choice would.
type Step struct {
	CPU   int
	Count int    // resume CPU this many times (each runs it to its next trace point)
	Until string // or: resume it until it passes the trace point Until (as Interrupt.At names it)
	ToEnd bool   // or: resume it until it has finished its work or has to spin
}

// Group is a set of operations that run at once, each CPU's in order, interleaved at trace
// points by a scheduler: first the explicit Schedule, then choices drawn from Seed.
type Group struct {
	Tasks    []Task
	Seed     uint64
	Schedule []Step
	// OnScheduleEnd, if set, is called once, where the explicit Schedule has run out and the
	// scheduler is about to make its first seeded choice: the next choice is open, and the
	// caller may stop there (a learner choosing the schedule step by step). It is not called
	// when the group ends within its Schedule, nor for a group with nothing to interleave.
	OnScheduleEnd func(Decision)
	// OnPick, if set, is called with the CPU each time the scheduler resumes one (explicit or
	// seeded): the run's schedule, one step at a time. Checks that come due by the clock
	// (resumeDue) are no picks.
	OnPick func(cpu int)
}

// Decision is a group's CPUs where a choice is open: which can run a step now.
type Decision struct {
	CPUs []CPUState // the group's CPUs, in CPU order
}

// CPUState is one CPU of a group at a Decision.
type CPUState struct {
	CPU      int
	Finished bool   // its work in the group is done (or it is stuck for good)
	Wait     string // the lock it spins on ("" when it can run)
}

// Ready reports whether the CPU can run a step.
func (c CPUState) Ready() bool { return !c.Finished && c.Wait == "" }

// InterruptError says an interrupt's point was never passed, so its handler did not run.
type InterruptError struct {
	Op  int // the index of the operation that was to be interrupted
	At  string
	Nth int
}

func (e *InterruptError) Error() string {
	return fmt.Sprintf("operation %d never passed %s (time %d): the interrupt did not happen", e.Op, e.At, e.Nth)
}

// StuckCPU is a CPU that spins for ever: the operation on top of it waits for a lock that can
// never come to it.
type StuckCPU struct {
	CPU  int
	Op   int    // the operation that spins
	Lock string // the lock it spins on
}

// DeadlockError says CPUs got stuck in a group: each spins on a raw spinlock that its own CPU
// holds (or waits for) below an interrupt, or that a stuck CPU holds, or in a cycle of such
// waits. The other CPUs ran to the end of their work.
type DeadlockError struct {
	Stuck []StuckCPU // by CPU
}

func (e *DeadlockError) Error() string {
	var b strings.Builder
	b.WriteString("DEADLOCK:")
	for i, s := range e.Stuck {
		if i > 0 {
			b.WriteString(";")
		}
		fmt.Fprintf(&b, " cpu %d spins for ever on %s (operation %d)", s.CPU, s.Lock, s.Op)
	}
	return b.String()
}

// Unwrap makes errors.Is(err, ErrDeadlock) hold.
func (e *DeadlockError) Unwrap() error { return ErrDeadlock }

type inflight struct {
	c  *opCtx
	op Op
}

type thread struct {
	cpu      int
	tasks    []Task
	started  int // tasks started
	stack    []inflight
	next     func() (struct{}, bool)
	stop     func()
	finished bool
	stuck    bool        // it spins for ever
	last     trace.Event // the last trace point it passed (its event)
}

type scheduler struct {
	m       *Map
	steps   int64 // the clock of rqspinlock waits: steps the CPUs took, and time spent stalled
	stalled bool  // every unfinished CPU spins, and time passes until a check
	stalls  int64 // stalls so far
	top     []*opCtx
	threads []*thread
	done    func(Op, Result)
	errs    []error
}

// Stuck reports whether cpu spins for ever: an operation on it got stuck in an earlier group.
// Every later operation on it ends with ErrDeadlock at once, without events.
func (m *Map) Stuck(cpu int) bool { return cpu >= 0 && cpu < len(m.stuck) && m.stuck[cpu] }

// Stopped reports whether every CPU is stuck: no operation can run any more.
func (m *Map) Stopped() bool { return m.nstuck == m.ncpus }

// Run runs a group of operations: all at once, each CPU's operations in order, interleaved at
// trace points. done (which may be nil) is called for each operation as it finishes, handler
// operations included.
//
// A CPU whose operation waits for a lock that can never come to it (a raw spinlock its own CPU
// holds or waits for below an interrupt, one a stuck CPU holds or is queued for, a cycle of such
// waits) is stuck: it spins for ever, as the real CPU would, while the others run to the end of
// their work. When nothing else can run, the stuck CPUs' unfinished operations end with
// ErrDeadlock (those in flight with an op_end event, innermost first) and Run returns a
// *DeadlockError; the CPUs stay stuck, holding their locks, for every later group. An interrupt
// whose point was never passed gives an *InterruptError (the group still runs to its end),
// joined to the DeadlockError if there is one.
func (m *Map) Run(g Group, done func(Op, Result)) error {
	if done == nil {
		done = func(Op, Result) {}
	}
	s := &scheduler{m: m, top: make([]*opCtx, m.ncpus), done: done}
	byCPU := map[int]*thread{}
	straight := len(g.Schedule) == 0 && m.nstuck == 0
	for _, t := range g.Tasks {
		if t.Op.CPU < 0 || t.Op.CPU >= m.ncpus {
			return fmt.Errorf("operation %d: %w %d", t.Op.Index, ErrNoSuchCPU, t.Op.CPU)
		}
		if t.Op.Index >= m.nextOp {
			m.nextOp = t.Op.Index + 1
		}
		if m.Stuck(t.Op.CPU) {
			// The CPU never comes back from where it spins.
			done(t.Op, Result{Err: ErrDeadlock})
			for _, h := range interruptHandler(t) {
				done(h, Result{Err: ErrDeadlock})
			}
			continue
		}
		if t.Interrupt != nil {
			straight = false // the handler may spin on its own CPU's locks
		}
		th := byCPU[t.Op.CPU]
		if th == nil {
			th = &thread{cpu: t.Op.CPU}
			byCPU[t.Op.CPU] = th
			s.threads = append(s.threads, th)
		}
		th.tasks = append(th.tasks, t)
	}
	slices.SortFunc(s.threads, func(a, b *thread) int { return a.cpu - b.cpu })
	m.sched = s
	m.setFast()
	defer func() { m.sched = nil; m.setFast() }()

	var stuck *DeadlockError
	switch {
	case len(s.threads) == 0:
	case len(s.threads) == 1 && straight:
		// Nothing to interleave and nothing to wait for: run straight through.
		func() {
			defer s.recoverStop()
			s.runThread(m, s.threads[0], nil)
		}()
	default:
		s.interleave(m, g, byCPU)
		stuck = s.endStuck(m)
	}
	if m.checks {
		if err := m.Check(); err != nil {
			panic("engine: invariant broken after a group: " + err.Error())
		}
	}
	switch {
	case stuck != nil && len(s.errs) > 0:
		return errors.Join(stuck, s.errs[0])
	case stuck != nil:
		return stuck
	case len(s.errs) > 0:
		return s.errs[0]
	}
	return nil
}

func interruptHandler(t Task) []Op {
	if t.Interrupt == nil {
		return nil
	}
	return t.Interrupt.Handler
}

// recoverStop ends a thread whose coroutine the scheduler discarded (a stuck CPU's, or any at
// the end of a group); anything else is a bug and panics on.
func (s *scheduler) recoverStop() {
	switch r := recover(); r.(type) {
	case nil, abortCoroutine:
	default:
		panic(r)
	}
}

// runThread runs a CPU's tasks in order.
func (s *scheduler) runThread(m *Map, th *thread, yield func()) {
	for _, t := range th.tasks {
		th.started++
		s.runTask(m, th, t, yield)
	}
}

func (s *scheduler) push(th *thread, c *opCtx, op Op) {
	th.stack = append(th.stack, inflight{c, op})
	s.top[th.cpu] = c
}

func (s *scheduler) pop(th *thread) {
	th.stack = th.stack[:len(th.stack)-1]
	s.top[th.cpu] = nil
	if n := len(th.stack); n > 0 {
		s.top[th.cpu] = th.stack[n-1].c
	}
}

func (s *scheduler) runTask(m *Map, th *thread, t Task, yield func()) {
	c := &opCtx{}
	m.newCtx(c, th.cpu, t.Op.Index, yield, t.Interrupt)
	if in := t.Interrupt; in != nil {
		c.onIntr = func(vc *opCtx, in *Interrupt) {
			for i, h := range in.Handler {
				vc.intrRan = i + 1
				hc := &opCtx{}
				m.newCtx(hc, th.cpu, h.Index, yield, nil)
				s.push(th, hc, h)
				r := m.exec(hc, h)
				s.pop(th)
				s.done(h, r)
			}
		}
	}
	s.push(th, c, t.Op)
	r := m.exec(c, t.Op)
	s.pop(th)
	s.done(t.Op, r)
	if in := t.Interrupt; in != nil && c.intrSeen < in.Nth {
		s.errs = append(s.errs, &InterruptError{Op: t.Op.Index, At: in.At, Nth: in.Nth})
	}
}

// blocked reports whether th's CPU spins: its top operation waits for a lock not handed to it
// yet, and has not been told to leave the queue.
func (s *scheduler) blocked(th *thread) bool {
	top := s.top[th.cpu]
	return top != nil && top.waiting != nil && !top.told && !s.m.mayTake(top, top.waiting)
}

// checkAt is when th's CPU, spinning on an rqspinlock, next runs check_timeout; -1 if it is not
// spinning or does not check.
func (s *scheduler) checkAt(th *thread) int64 {
	if th.finished || !s.blocked(th) {
		return -1
	}
	c := s.top[th.cpu]
	if !c.checks {
		return -1
	}
	if s.stalled && c.stallCheck == s.stalls {
		// Nothing moves while every CPU spins: until its deadline its checks would find what
		// the last one found.
		return c.deadline
	}
	return min(c.nextCheck, c.deadline)
}

// resumeDue lets each spinning CPU whose check is due run it (in CPU order), by the clock and
// whatever the schedule says. A check that finds nothing is no step: the clock stands still. A
// check that fires makes the CPU give up, and it goes on to its lock_failed.
func (s *scheduler) resumeDue(m *Map) {
	for _, th := range s.threads {
		t := s.checkAt(th)
		if t < 0 || t > s.steps {
			continue
		}
		c := s.top[th.cpu]
		c.due = true
		m.last = trace.Event{}
		if _, ok := th.next(); !ok {
			th.finished = true
		}
		th.last = m.last
		if s.stalled && s.top[th.cpu] == c && c.waiting != nil {
			c.stallCheck = s.stalls
		}
	}
}

// interleave runs every CPU's thread as a coroutine and picks which advances next.
func (s *scheduler) interleave(m *Map, g Group, byCPU map[int]*thread) {
	for _, th := range s.threads {
		th := th
		th.next, th.stop = iter.Pull(func(yield func(struct{}) bool) {
			defer s.recoverStop()
			s.runThread(m, th, func() {
				if !yield(struct{}{}) {
					panic(abortCoroutine{})
				}
			})
		})
	}
	defer func() {
		for _, th := range s.threads {
			th.stop()
		}
	}()
	rng := rand.New(rand.NewPCG(g.Seed, 0x6c72757669))
	resume := func(th *thread) {
		if g.OnPick != nil {
			g.OnPick(th.cpu)
		}
		s.steps++
		s.stalled = false
		m.last = trace.Event{}
		if _, ok := th.next(); !ok {
			th.finished = true
		}
		th.last = m.last
	}
	steps := g.Schedule
	remaining := -1
	var runnable []*thread
	for {
		s.resumeDue(m)
		// The explicit schedule first.
		if len(steps) > 0 {
			st := steps[0]
			th := byCPU[st.CPU]
			if th != nil && !th.finished && s.blocked(th) && !st.ToEnd && s.allBlocked() {
				// Every CPU spins: time passes (rqspinlock checks may give up) until one can
				// run, as it would in a seeded choice; the step waits for its CPU. A step run
				// from a choice made there (a learner's) does the same when replayed.
				if !s.stall() {
					return
				}
				continue
			}
			if th == nil || th.finished || s.blocked(th) {
				steps, remaining = steps[1:], -1
				continue
			}
			resume(th)
			switch {
			case st.ToEnd:
			case st.Until != "":
				if matchesPoint(&th.last, st.Until) {
					steps = steps[1:]
				}
			default:
				if remaining < 0 {
					remaining = max(st.Count, 1)
				}
				remaining--
				if remaining == 0 {
					steps, remaining = steps[1:], -1
				}
			}
			continue
		}
		runnable = runnable[:0]
		alive := 0
		for _, th := range s.threads {
			if th.finished {
				continue
			}
			alive++
			if !s.blocked(th) {
				runnable = append(runnable, th)
			}
		}
		if alive == 0 {
			return
		}
		if len(runnable) == 0 {
			if !s.stall() {
				return
			}
			continue
		}
		if g.OnScheduleEnd != nil {
			m.flush() // the tracer has every event so far: the caller may stop here
			g.OnScheduleEnd(s.decision())
			g.OnScheduleEnd = nil
		}
		resume(runnable[rng.IntN(len(runnable))])
	}
}

// allBlocked reports whether every unfinished CPU of the group spins.
func (s *scheduler) allBlocked() bool {
	for _, th := range s.threads {
		if !th.finished && !s.blocked(th) {
			return false
		}
	}
	return true
}

// decision describes the group's CPUs where a choice is open.
func (s *scheduler) decision() Decision {
	d := Decision{CPUs: make([]CPUState, 0, len(s.threads))}
	for _, th := range s.threads {
		st := CPUState{CPU: th.cpu, Finished: th.finished}
		if !th.finished && s.blocked(th) {
			st.Wait = s.top[th.cpu].waiting.ID()
		}
		d.CPUs = append(d.CPUs, st)
	}
	return d
}

// stall handles a machine where every unfinished CPU spins. Time passes until the first
// rqspinlock waiter's next check or deadline, when it may give up (resumeDue). A raw spinlock
// never gives up: if no CPU spins on an rqspinlock that checks, every unfinished CPU spins for
// ever. stall then marks them stuck and returns false.
func (s *scheduler) stall() bool {
	if !s.stalled {
		s.stalled = true
		s.stalls++
	}
	next := int64(-1)
	for _, th := range s.threads {
		if t := s.checkAt(th); t >= 0 && (next < 0 || t < next) {
			next = t
		}
	}
	if next < 0 {
		for _, th := range s.threads {
			th.stuck = !th.finished
		}
		return false
	}
	s.steps = max(s.steps, next)
	return true
}

// endStuck ends the stuck CPUs' unfinished operations with DEADLOCK, the innermost first, and
// marks the CPUs stuck for good; it returns the DeadlockError that tells which, or nil.
func (s *scheduler) endStuck(m *Map) *DeadlockError {
	var e *DeadlockError
	for _, th := range s.threads {
		if !th.stuck {
			continue
		}
		top := s.top[th.cpu]
		if e == nil {
			e = &DeadlockError{}
		}
		e.Stuck = append(e.Stuck, StuckCPU{CPU: th.cpu, Op: top.op, Lock: top.waiting.ID()})
		if m.stuck == nil {
			m.stuck = make([]bool, m.ncpus)
		}
		m.stuck[th.cpu] = true
		m.nstuck++
		for i := len(th.stack) - 1; i >= 0; i-- {
			f := th.stack[i]
			if m.tr != nil {
				ev := trace.OpEndEvent(trace.SymDeadlock, 0)
				m.record(f.c, &ev)
				m.flush()
			}
			s.done(f.op, Result{Err: ErrDeadlock})
		}
		// The rest of an interrupt's handler, which never ran.
		if v := th.stack[0].c; v.intr != nil {
			for _, h := range v.intr.Handler[v.intrRan:] {
				s.done(h, Result{Err: ErrDeadlock})
			}
		}
		th.stack = nil
		for _, t := range th.tasks[th.started:] {
			s.done(t.Op, Result{Err: ErrDeadlock})
			for _, h := range interruptHandler(t) {
				s.done(h, Result{Err: ErrDeadlock})
			}
		}
	}
	return e
}
