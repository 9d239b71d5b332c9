// SPDX-License-Identifier: GPL-2.0-only

package trace

import (
	"strconv"
	"strings"
)

// Stuck CPUs. An operation that ends with DEADLOCK while it spins never got its lock: the
// engine found that it could never come to it and cut the operation short (engine.Map.Run,
// endStuck). The Timeline reads, once, which CPU got stuck that way, from when, and why, so
// that every view says the same.

// StuckWhy says why the lock a stuck CPU spins on can never come to it.
type StuckWhy uint8

// The reasons a CPU is stuck.
const (
	// StuckOwnLock: its own CPU holds the lock, below the interrupt that spins.
	StuckOwnLock StuckWhy = iota + 1
	// StuckOwnWaiter: its own CPU, below the interrupt, is queued for the lock ahead of it; a
	// queued lock goes to that waiter first, which cannot run until the interrupt returns.
	StuckOwnWaiter
	// StuckBehind: another stuck CPU holds the lock or is queued for it ahead of it.
	StuckBehind
)

var stuckWhyNames = [...]string{StuckOwnLock: "own_lock", StuckOwnWaiter: "own_waiter", StuckBehind: "stuck_cpu"}

// String names the reason as the explorer's frames carry it: own_lock, own_waiter, stuck_cpu.
func (w StuckWhy) String() string {
	if int(w) < len(stuckWhyNames) && stuckWhyNames[w] != "" {
		return stuckWhyNames[w]
	}
	return "unknown"
}

// Stuck is a CPU that spins for ever: its operation Op waits for Lock, which can never come
// to it.
type Stuck struct {
	CPU  int
	Op   int // the operation that spins (the innermost, when an interrupt spins)
	Lock string
	// Wait is the position just after its lock_wait; Since the position from which it can never
	// go on: Wait, or later, when the CPU ahead of it got stuck (it waited in an ordinary way
	// until then).
	Wait, Since int
	Why         StuckWhy
	// Ahead is the operation ahead of it on the lock: its own CPU's holder or waiter
	// (StuckOwnLock, StuckOwnWaiter), or the stuck CPU's (StuckBehind); -1 if none is known.
	Ahead int
	// Behind is the stuck CPU ahead of it (StuckBehind), -1 otherwise; Holds says Behind holds
	// the lock (else it is queued for it ahead).
	Behind int
	Holds  bool
}

// StuckCPUs returns the CPUs the trace shows stuck, in CPU order.
func (t *Timeline) StuckCPUs() []Stuck { return t.stuck }

// StuckAt returns how CPU cpu is stuck at position pos, nil if it is not (yet). A stuck CPU
// stays stuck to the end of the trace, after its operations have ended with DEADLOCK.
func (t *Timeline) StuckAt(cpu, pos int) *Stuck {
	for i := range t.stuck {
		if s := &t.stuck[i]; s.CPU == cpu && pos >= s.Since {
			return s
		}
	}
	return nil
}

// deriveStuck finds the stuck CPUs: each CPU whose operation ended with DEADLOCK while it spun
// (the innermost such operation: the engine ends those first), and why, from the state at its
// lock_wait.
func (t *Timeline) deriveStuck() {
	type wait struct {
		cpu, op, from, end int
		lock               string
	}
	var waits []wait // every wait cut short by DEADLOCK, in the order the waits began
	for i := range t.Holds {
		h := &t.Holds[i]
		if h.Kind != Waited || h.Op < 0 || int(h.Op) >= len(t.Ops) {
			continue
		}
		if o := &t.Ops[h.Op]; o.Result == "DEADLOCK" && o.End >= 0 && int(h.To) == o.End {
			waits = append(waits, wait{cpu: int(h.CPU), op: int(h.Op), from: int(h.From), end: o.End, lock: h.Lock()})
		}
	}
	if len(waits) == 0 {
		return
	}
	first := map[int]int{} // cpu -> index in waits of its innermost wait (ended first)
	for i, w := range waits {
		if j, ok := first[w.cpu]; !ok || w.end < waits[j].end {
			first[w.cpu] = i
		}
	}
	for cpu := range t.Header.CPUs {
		if i, ok := first[cpu]; ok {
			w := waits[i]
			t.stuck = append(t.stuck, Stuck{CPU: cpu, Op: w.op, Lock: w.lock, Wait: w.from, Since: w.from, Ahead: -1, Behind: -1})
		}
	}
	stuckCPU := func(cpu int) bool { _, ok := first[cpu]; return ok }
	var st *State
	for i := range t.stuck {
		s := &t.stuck[i]
		st = t.StateAt(s.Wait, st)
		holder, holderOp := -1, -1
		for _, l := range st.Locks() {
			if l.Lock == s.Lock {
				holder, holderOp = l.CPU, l.Op
			}
		}
		if holder == s.CPU {
			s.Why, s.Ahead = StuckOwnLock, holderOp
			continue
		}
		if stack := st.Stack(s.CPU); len(stack) > 1 {
			for _, fr := range stack[:len(stack)-1] {
				if fr.Wait == s.Lock {
					s.Why, s.Ahead = StuckOwnWaiter, fr.Op
				}
			}
			if s.Why != 0 {
				continue
			}
		}
		s.Why = StuckBehind
		if holder >= 0 && stuckCPU(holder) {
			s.Behind, s.Holds, s.Ahead = holder, true, holderOp
			continue
		}
		// Queued ahead of it: a CPU in flight that waits for the lock, or one whose wait on it
		// DEADLOCK has ended already (it spins there still).
		for _, fr := range st.InFlight() {
			if fr.CPU != s.CPU && fr.Wait == s.Lock && stuckCPU(fr.CPU) {
				s.Behind, s.Ahead = fr.CPU, fr.Op
				break
			}
		}
		if s.Behind < 0 {
			for _, w := range waits {
				if w.cpu != s.CPU && w.lock == s.Lock && w.end <= s.Wait {
					s.Behind, s.Ahead = w.cpu, w.op
					break
				}
			}
		}
	}
	// A CPU stuck behind another is stuck from when that one is (a cycle: when it closes).
	for changed := true; changed; {
		changed = false
		for i := range t.stuck {
			s := &t.stuck[i]
			if s.Why != StuckBehind || s.Behind < 0 {
				continue
			}
			for j := range t.stuck {
				if o := &t.stuck[j]; o.CPU == s.Behind && o.Since > s.Since {
					s.Since, changed = o.Since, true
				}
			}
		}
	}
}

// StuckBand says how a CPU is stuck in a few words, for the band beside its token:
// "⚠ stuck behind its own waiter: cpu0.local".
func (s *Stuck) StuckBand() string {
	switch s.Why {
	case StuckOwnLock:
		return "⚠ stuck on its own " + s.Lock
	case StuckOwnWaiter:
		return "⚠ stuck behind its own waiter: " + s.Lock
	case StuckBehind:
		if s.Behind >= 0 {
			return "⚠ stuck behind CPU " + strconv.Itoa(s.Behind) + ": " + s.Lock
		}
	}
	return "⚠ stuck: " + s.Lock
}

// StuckText says how a CPU is stuck in a sentence, for its panel and callout: "spins for ever
// on cpu0.local, queued behind this CPU's own op 8 (cpu 0 update 5 5 any), which waits for it
// below the interrupt: ...; this CPU can never continue (DEADLOCK)".
func (t *Timeline) StuckText(s *Stuck) string {
	var b strings.Builder
	b.WriteString("spins for ever on " + s.Lock)
	op := func(i int) string {
		if i < 0 {
			return ""
		}
		return " " + t.opText(i)
	}
	switch s.Why {
	case StuckOwnLock:
		b.WriteString(", which this CPU already holds below the interrupt" + ifText(s.Ahead >= 0, ", in its"+op(s.Ahead)))
	case StuckOwnWaiter:
		b.WriteString(", queued behind this CPU's own" + op(s.Ahead) + ", which waits for it below the interrupt: the lock goes to that waiter first, which cannot run until the interrupt returns")
	case StuckBehind:
		switch {
		case s.Behind < 0:
			b.WriteString(", which never comes to it")
		case s.Holds:
			b.WriteString(", held by CPU " + strconv.Itoa(s.Behind) + ", which is stuck itself")
		default:
			b.WriteString(", queued behind CPU " + strconv.Itoa(s.Behind) + ", which is stuck itself and waits for it first")
		}
	}
	b.WriteString("; this CPU can never continue (DEADLOCK)")
	return b.String()
}

func ifText(ok bool, s string) string {
	if ok {
		return s
	}
	return ""
}

// Explain is Describe, and what only the whole trace tells of the event: that a CPU's
// lock_wait never ends (the CPU is stuck from there, or once the CPU ahead of it is). The
// explorer's lines and log show it; a reader that streams the trace (DescribeEvent) cannot
// know it yet.
func (t *Timeline) Explain(i int) string {
	d := t.Describe(i)
	if d == "" || t.Events[i].Kind != KindLockWait {
		return d
	}
	for k := range t.stuck {
		s := &t.stuck[k]
		if s.CPU != int(t.Events[i].CPU) || s.Wait != i+1 {
			continue
		}
		if s.Since > s.Wait && s.Behind >= 0 {
			return d + "; it never gets it: stuck once CPU " + strconv.Itoa(s.Behind) + " is (DEADLOCK)"
		}
		return d + "; it never gets it: the CPU is stuck (DEADLOCK)"
	}
	return d
}
