// SPDX-License-Identifier: GPL-2.0-only

package trace

import (
	"strconv"
	"strings"
)

// Describe returns a one-line description of event i, as a person reads it: "CPU 1 spins on
// the global LRU lock (lru.global), held by CPU 0". Every view that explains a step (the
// explorer's event line and log, the exports, the CLI) shows these words.
func (t *Timeline) Describe(i int) string {
	if i < 0 || i >= len(t.Events) {
		return ""
	}
	ev := &t.Events[i]
	who := "CPU " + strconv.Itoa(int(ev.CPU))
	switch ev.Kind {
	case KindOpBegin:
		return who + " begins " + t.opText(int(ev.Op))
	case KindOpEnd:
		what := t.opText(int(ev.Op))
		switch {
		case ev.Result() == "DEADLOCK":
			return who + "'s " + what + " never returns: the CPU spins for ever (DEADLOCK)"
		case t.Ops[ev.Op].Name == "lookup" || t.Ops[ev.Op].Name == "sys_lookup":
			if ev.Result() == "-ENOENT" {
				return who + "'s " + what + " returns -ENOENT"
			}
			return who + "'s " + what + " returns the value " + ev.Result()
		}
		return who + "'s " + what + " returns " + ev.Result()
	case KindNode:
		s := who + ": " + t.nodeTitle(ev.Node())
		if ev.Idle() {
			s += " (nothing to do, no lock taken)"
		}
		return s
	case KindGap:
		return who + " takes a path the chart does not draw (" + ev.Reason() + ")"
	case KindNote:
		return who + ": note (" + ev.Reason() + ")"
	case KindLock:
		return who + " takes " + LockTitle(ev.Lock())
	case KindUnlock:
		return who + " releases " + LockTitle(ev.Lock())
	case KindLockWait:
		s := who + " spins on " + LockTitle(ev.Lock())
		if h, ok := t.waitHolder[i]; ok {
			if h == int(ev.CPU) {
				return s + ", which this CPU already holds below the interrupt"
			}
			s += ", held by CPU " + strconv.Itoa(h)
		}
		return s
	case KindLockFailed:
		return who + " fails to take " + LockTitle(ev.Lock()) + ": " + ev.Result() + checkText(ev.Check())
	case KindMove:
		what := "element " + strconv.Itoa(int(ev.Elem))
		if t.keyed(i) {
			what += " (key " + strconv.FormatUint(ev.Key, 10) + ")"
		} else {
			what += " (no key)"
		}
		from, to := "from "+ListTitle(ev.From()), "to the head of "+ListTitle(ev.To())
		switch {
		case ev.From() == "":
			from = "from its hands"
		case ev.To() == "":
			to = "into its hands (off every list)"
		}
		s := who + " moves " + what + " " + from + " " + to
		if ev.Ref() {
			s += ", referenced"
		}
		return s
	case KindRef:
		return who + " sets the reference bit of key " + strconv.FormatUint(ev.Key, 10) + " (element " + strconv.Itoa(int(ev.Elem)) + ")"
	case KindLink:
		return who + " links key " + strconv.FormatUint(ev.Key, 10) + " (element " + strconv.Itoa(int(ev.Elem)) + ", value " +
			strconv.FormatUint(ev.Value, 10) + ") into bucket " + strconv.Itoa(int(ev.Bucket))
	case KindUnlink:
		return who + " unlinks key " + strconv.FormatUint(ev.Key, 10) + " (element " + strconv.Itoa(int(ev.Elem)) + ") from bucket " + strconv.Itoa(int(ev.Bucket))
	case KindValue:
		return who + " writes " + strconv.FormatUint(ev.Value, 10) + " into key " + strconv.FormatUint(ev.Key, 10) + "'s value in place"
	case KindRotation:
		if ev.Elem < 0 {
			return who + ": the rotation pointer of " + ListTitle(ev.List()) + " is back at its head"
		}
		return who + ": the rotation pointer of " + ListTitle(ev.List()) + " moves to element " + strconv.Itoa(int(ev.Elem))
	case KindNextSteal:
		return who + "'s next steal round will start at CPU " + strconv.FormatUint(ev.Value, 10)
	case KindScan:
		what := "element " + strconv.Itoa(int(ev.Elem))
		if !strings.HasSuffix(ev.List(), "free") {
			what += " (key " + strconv.FormatUint(ev.Key, 10) + ")"
		}
		bit := "clear"
		if ev.Ref() {
			bit = "set"
		}
		return who + " reads " + what + " on " + ListTitle(ev.List()) + ": its reference bit is " + bit
	}
	return who + ": " + ev.Kind.String()
}

// checkText says which rqspinlock check made a lock_failed give up.
func checkText(check string) string {
	switch check {
	case CheckAA:
		return " (its deadlock check found the lock held, or waited for, by this CPU: AA)"
	case CheckABBA:
		return " (its deadlock check found the holder waiting for a lock this CPU holds: ABBA)"
	case CheckTimeout:
		return " (the wait timed out)"
	case CheckQueue:
		return " (the waiter ahead of it gave up and told it to leave)"
	}
	return ""
}

func (t *Timeline) opText(op int) string {
	if op >= 0 && op < len(t.Header.Ops) && t.Header.Ops[op].Text != "" {
		return "op " + strconv.Itoa(op) + " (" + t.Header.Ops[op].Text + ")"
	}
	if op >= 0 && op < len(t.Ops) {
		o := &t.Ops[op]
		return "op " + strconv.Itoa(op) + " (" + o.Name + " " + strconv.FormatUint(o.Key, 10) + ")"
	}
	return "op " + strconv.Itoa(op)
}

func (t *Timeline) nodeTitle(id string) string {
	if s := t.Chart.Titles[id]; s != "" {
		return s
	}
	return id
}

// keyed reports whether the element of move event i held a key then (it was in the table): a
// node popped from a free list holds none until the update links it.
func (t *Timeline) keyed(i int) bool {
	return i/64 < len(t.keyedBits) && t.keyedBits[i/64]&(1<<(i%64)) != 0
}

// ListTitle names a list for a person: "global.inactive" is "the global inactive list",
// "cpu1.pending" "CPU 1's pending list".
func ListTitle(name string) string {
	if name == "" {
		return "no list"
	}
	owner, list, ok := strings.Cut(name, ".")
	if !ok {
		return name
	}
	list = strings.ReplaceAll(list, "_", " ")
	if owner == "global" {
		return "the global " + list + " list (" + name + ")"
	}
	if n, ok := strings.CutPrefix(owner, "cpu"); ok {
		return "CPU " + n + "'s " + list + " list (" + name + ")"
	}
	return name
}

// LockTitle names a lock for a person: "lru.global" is "the global LRU lock (lru.global)".
func LockTitle(id string) string {
	switch {
	case id == "lru.global":
		return "the global LRU lock (lru.global)"
	case strings.HasPrefix(id, "htab.bucket["):
		return "bucket " + strings.TrimSuffix(strings.TrimPrefix(id, "htab.bucket["), "]") + "'s lock (" + id + ")"
	case strings.HasPrefix(id, "cpu"):
		n, kind, _ := strings.Cut(strings.TrimPrefix(id, "cpu"), ".")
		switch kind {
		case "local":
			return "CPU " + n + "'s local list lock (" + id + ")"
		case "lru":
			return "CPU " + n + "'s LRU lock (" + id + ")"
		}
	}
	return id
}
