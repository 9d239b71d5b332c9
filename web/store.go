// SPDX-License-Identifier: GPL-2.0-only

package web

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"time"
	"unsafe"

	"github.com/lruviz/lruviz/compare"
	"github.com/lruviz/lruviz/trace"
)

// The traces of scripts, held while sessions and downloads use them. The same text is computed
// once and shared, as the bundled scenarios are; every trace held counts against the server's
// memory budget (--max-memory) and is let go when its last holder lets go. A computation that
// would not fit is refused at once with a clear error, and one that grows past what is left is
// stopped the moment it does; computations wait for a slot only so long (then "busy, try
// again"), and small scripts have slots of their own, so that they never wait behind big ones.

// Errors a load or a download gets from the store.
var (
	// errBusy: every computation slot stayed taken for the whole wait.
	errBusy = errors.New("the server is busy computing other scenarios; try again in a moment")
	// errStopping: the server is shutting down.
	errStopping = errors.New("the server is stopping")
)

// memoryError says the budget is full.
type memoryError struct{ used, budget int64 }

func (e *memoryError) Error() string {
	return fmt.Sprintf("the server's memory budget is full (%d of %d MiB held by the scenarios loaded now); "+
		"try again when others have closed theirs, or use a shorter scenario (lruviz trace writes any length)",
		e.used>>20, e.budget>>20)
}

// eventBytes is what one event costs while a trace is computed and derived: the recorder's
// slice (which may hold twice its length while it grows) and the Timeline's steps and holds.
const eventBytes = 2*int64(unsafe.Sizeof(trace.Event{})) + 64

// Computation slots: small scripts (at most smallScript bytes and smallEntries entries) and
// the rest, each with its own; a computation waits for a slot at most slotWait.
const (
	smallScript  = 16 << 10
	smallEntries = 4096
	smallSlots   = 2
	bigSlots     = 1
	slotWait     = 5 * time.Second
)

type traceStore struct {
	ctx    context.Context // the server's: its end stops every computation
	lim    *limits         // the server's (tests lower them)
	budget int64

	small, big chan struct{}
	wait       time.Duration

	mu      sync.Mutex
	used    int64 // bytes of the traces held, and reserved by computations in progress
	entries map[storeKey]*storeEntry
}

// storeKey names a trace in the store: the script's text, and the profile it is run under for a
// comparison ("": its own, with its expectations).
type storeKey struct {
	sum     [32]byte
	profile string
	// schedLine is the line of the parallel group scheduled by a learner (web/sched.go), 0 for
	// none: there the same text gives another trace, which stops at the next choice.
	schedLine int
}

// storeEntry is one script's trace: computing (done open), or held by refs holders.
type storeEntry struct {
	key   storeKey
	done  chan struct{}
	t     *Trace
	err   error
	refs  int
	bytes int64
}

func newTraceStore(ctx context.Context, lim *limits, budget int64) *traceStore {
	return &traceStore{ctx: ctx, lim: lim, budget: budget, small: make(chan struct{}, smallSlots), big: make(chan struct{}, bigSlots),
		wait: slotWait, entries: map[storeKey]*storeEntry{}}
}

// Used returns the bytes held and reserved, and the budget.
func (st *traceStore) Used() (used, budget int64) {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.used, st.budget
}

// acquire returns the trace of a script, computing it unless a holder has it already, and the
// function that lets it go (call it once). ctx is the caller's (a request's, a session's).
func (st *traceStore) acquire(ctx context.Context, name string, src []byte) (*Trace, func(), error) {
	return st.acquireKey(ctx, name, src, storeKey{sum: sha256.Sum256(src)})
}

// acquireAs is acquire for the script run under a kernel profile for a comparison
// (compare.Prepare), or as it is when profile is "".
func (st *traceStore) acquireAs(ctx context.Context, name string, src []byte, profile string) (*Trace, func(), error) {
	return st.acquireKey(ctx, name, src, storeKey{sum: sha256.Sum256(src), profile: profile})
}

// acquireSched is acquire in scheduler mode for the group on line schedLine (0: none).
func (st *traceStore) acquireSched(ctx context.Context, name string, src []byte, schedLine int) (*Trace, func(), error) {
	return st.acquireKey(ctx, name, src, storeKey{sum: sha256.Sum256(src), schedLine: schedLine})
}

// acquireKey is acquire for the trace key names.
func (st *traceStore) acquireKey(ctx context.Context, name string, src []byte, key storeKey) (*Trace, func(), error) {
	st.mu.Lock()
	e := st.entries[key]
	if e == nil {
		e = &storeEntry{key: key, done: make(chan struct{})}
		st.entries[key] = e
		e.refs = 1
		st.mu.Unlock()
		st.compute(ctx, e, name, src)
	} else {
		e.refs++
		st.mu.Unlock()
		select {
		case <-e.done:
		case <-ctx.Done():
			st.release(e)
			return nil, nil, ctx.Err()
		}
	}
	if e.err != nil {
		st.release(e)
		return nil, nil, e.err
	}
	var once sync.Once
	return e.t, func() { once.Do(func() { st.release(e) }) }, nil
}

// compute computes e's trace in a slot, within what is left of the budget.
func (st *traceStore) compute(ctx context.Context, e *storeEntry, name string, src []byte) {
	defer close(e.done)
	f, err := parseForExplorer(name, src, *st.lim)
	if err == nil && e.key.profile != "" {
		err = compare.Prepare(f, e.key.profile)
	}
	if err != nil {
		e.err = err
		return
	}
	slots := st.big
	if len(src) <= smallScript && f.Map.Entries <= smallEntries {
		slots = st.small
	}
	timer := time.NewTimer(st.wait)
	defer timer.Stop()
	select {
	case slots <- struct{}{}:
	case <-timer.C:
		e.err = errBusy
		return
	case <-ctx.Done():
		e.err = ctx.Err()
		return
	case <-st.ctx.Done():
		e.err = errStopping
		return
	}
	defer func() { <-slots }()
	// Reserve what the longest trace allowed would take, or what is left if that is less:
	// the computation stops when its trace would outgrow its reservation.
	st.mu.Lock()
	free := st.budget - st.used
	reserve := min(free, int64(st.lim.events)*eventBytes)
	if reserve < min(int64(st.lim.events), 1024)*eventBytes {
		used := st.used
		st.mu.Unlock()
		e.err = &memoryError{used: used, budget: st.budget}
		return
	}
	st.used += reserve
	st.mu.Unlock()
	lim := *st.lim
	lim.events = int(min(int64(lim.events), reserve/eventBytes))
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(st.ctx, cancel)
	defer stop()
	t, err := computeFileSched(cctx, f, src, lim, e.key.schedLine)
	st.mu.Lock()
	st.used -= reserve
	switch {
	case err != nil && st.ctx.Err() != nil:
		e.err = errStopping
	case err != nil:
		var se *ScenarioError
		if errors.As(err, &se) && se.over && lim.events < st.lim.events {
			// Not too long for the explorer: too long for what the budget has left.
			e.err = &memoryError{used: st.used, budget: st.budget}
		} else {
			e.err = err
		}
	default:
		e.t, e.bytes = t, t.Bytes()
		t.entry = e
		st.used += e.bytes
	}
	st.mu.Unlock()
}

// grow adds n bytes (less, if negative) to what e holds: what is derived from its trace later,
// such as its mirror on the kernel. Growing past the budget is refused with a memoryError.
func (st *traceStore) grow(e *storeEntry, n int64) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	if n > 0 && st.used+n > st.budget {
		return &memoryError{used: st.used, budget: st.budget}
	}
	st.used += n
	e.bytes += n
	return nil
}

// adjust is grow without the check: for memory already taken (a reservation made good).
func (st *traceStore) adjust(e *storeEntry, n int64) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.used += n
	e.bytes += n
}

// slot waits for one of slots (at most st.wait) and returns the function that frees it; the
// error is errBusy, errStopping or ctx's.
func (st *traceStore) slot(ctx context.Context, slots chan struct{}) (func(), error) {
	timer := time.NewTimer(st.wait)
	defer timer.Stop()
	select {
	case slots <- struct{}{}:
		return func() { <-slots }, nil
	case <-timer.C:
		return nil, errBusy
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-st.ctx.Done():
		return nil, errStopping
	}
}

// hold takes one more hold of a trace a holder has (a follower showing what its presenter
// shows), and returns the function that lets it go. A bundled trace needs none.
func (st *traceStore) hold(t *Trace) func() {
	e := t.entry
	if e == nil {
		return func() {}
	}
	st.mu.Lock()
	e.refs++
	st.mu.Unlock()
	var once sync.Once
	return func() { once.Do(func() { st.release(e) }) }
}

// release lets go of one hold of e; the last lets go of the trace.
func (st *traceStore) release(e *storeEntry) {
	st.mu.Lock()
	defer st.mu.Unlock()
	e.refs--
	if e.refs > 0 {
		return
	}
	if st.entries[e.key] == e {
		delete(st.entries, e.key)
	}
	st.used -= e.bytes
	e.bytes = 0
}

// Bytes estimates the memory a trace holds: its events, its Timeline and the messages encoded
// once.
func (t *Trace) Bytes() int64 {
	n := int64(len(t.Events))*int64(unsafe.Sizeof(trace.Event{})) + int64(len(t.Source))
	if t.Timeline != nil {
		n += t.Timeline.Bytes()
	}
	return n + int64(len(t.enc)+len(t.encOff)*4+len(t.loaded)+len(t.timeline)+len(t.Results)*16)
}
