// SPDX-License-Identifier: GPL-2.0-only

package trace

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// Sym is a name an event carries — a node id, a list, a lock, a lock class, an operation's
// name, flags or result, a reason — as a small number into one table of the process. The
// table holds a fixed vocabulary: the names this package knows (lists, locks, classes,
// results), the node ids the chart registers and the reasons the engine registers, all when
// their packages initialise. Nothing a trace reads adds to it, so a hostile trace cannot grow
// it: a name it does not hold is an error. Strings appear only at the edges (JSON, Perfetto,
// descriptions), where Sym.String gives the name back without allocating.
type Sym uint16

// The table: the names by symbol, which String reads without a lock (a slice that only grows:
// a reader's copy of it stays valid), and the symbols by name, behind a lock.
var (
	// symNames is initialised by its declaration, before the variables below that intern.
	symNames = func() *atomic.Pointer[[]string] {
		p := new(atomic.Pointer[[]string])
		p.Store(&[]string{""})
		return p
	}()
	symsMu    sync.RWMutex
	symByName = map[string]Sym{"": 0}
)

// Intern returns the symbol for name, adding it to the table. It is for the vocabulary a
// package registers when it initialises; a reader looks names up with LookupSym instead.
func Intern(name string) Sym {
	if s, ok := LookupSym(name); ok {
		return s
	}
	symsMu.Lock()
	defer symsMu.Unlock()
	if s, ok := symByName[name]; ok {
		return s
	}
	names := *symNames.Load()
	if len(names) >= 1<<16-1 {
		panic("trace: the symbol table is full")
	}
	s := Sym(len(names))
	// Appending in place is safe: readers hold shorter slices and never read past them.
	names = append(names, name)
	symNames.Store(&names)
	symByName[name] = s
	return s
}

// LookupSym returns the symbol of name if the table holds it.
func LookupSym(name string) (Sym, bool) {
	symsMu.RLock()
	s, ok := symByName[name]
	symsMu.RUnlock()
	return s, ok
}

// String returns the name.
func (s Sym) String() string {
	names := *symNames.Load()
	if int(s) < len(names) {
		return names[s]
	}
	return ""
}

// The vocabulary this package knows: the lists and locks of a map of up to MaxCPUs CPUs (see
// Header), the lock classes, the checks of a resilient lock, the operations and their flags,
// and the results.
const MaxCPUs = 128

var (
	symGlobalActive   = Intern("global.active")
	symGlobalInactive = Intern("global.inactive")
	symGlobalFree     = Intern("global.free")
	// per CPU: local_free, pending (common LRU); active, inactive, free (per-CPU LRU); and its
	// local list lock (common LRU) and its LRU lock (per-CPU LRU)
	symCPULists, symCPULocks = internCPUNames()
	symLRUGlobal             = Intern("lru.global")
	// symBucketLock stands for every htab.bucket[I]: the index is the event's Bucket.
	symBucketLock = Intern("htab.bucket[]")

	SymClassLocal   = Intern(ClassLocal)
	SymClassLRU     = Intern(ClassLRU)
	SymClassHashtab = Intern(ClassHashtab)
	SymClassRemote  = Intern(ClassRemote)

	// SymValue is the result of a lookup that found its key: the value is the event's Value.
	SymValue    = Intern("(value)")
	SymDeadlock = Intern("DEADLOCK")
	// SymRawFlags is an update's flags given as a number: the number is in Elem and Bucket.
	SymRawFlags = Intern("(flags)")

	symLookup    = Intern("lookup")
	symSysLookup = Intern("sys_lookup")
	symZero      = Intern("0")
)

// cpuListNames is declared before the variables that use it (package variables are
// initialised in dependency order, so the order here only reads better).
var cpuListNames = [5]string{"local_free", "pending", "active", "inactive", "free"}

// The lists of a per-CPU kind (ListSym).
const (
	ListLocalFree = iota
	ListPending
	ListActive
	ListInactive
	ListFree
)

func internCPUNames() (lists [MaxCPUs][5]Sym, locks [MaxCPUs][2]Sym) {
	for c := range MaxCPUs {
		p := "cpu" + strconv.Itoa(c)
		for k, n := range cpuListNames {
			lists[c][k] = Intern(p + "." + n)
		}
		locks[c][0] = Intern(p + ".local")
		locks[c][1] = Intern(p + ".lru")
	}
	return lists, locks
}

// The operations, their flags and the results every map can have, in the table from the start.
var _ = func() []Sym {
	var out []Sym
	for _, n := range []string{"update", "lookup", "sys_lookup", "delete", "any", "noexist", "exist", "0",
		"-EEXIST", "-ENOENT", "-ENOMEM", "-EBUSY", "-EDEADLK", "-ETIMEDOUT", "-EINVAL", "-E2BIG", "-EPERM",
		CheckAA, CheckABBA, CheckTimeout, CheckQueue} {
		out = append(out, Intern(n))
	}
	return out
}()

// GlobalListSym returns the symbol of the common LRU's list global.NAME (active, inactive, free).
func GlobalListSym(name string) Sym {
	switch name {
	case "active":
		return symGlobalActive
	case "inactive":
		return symGlobalInactive
	case "free":
		return symGlobalFree
	}
	panic("trace: no global list " + name)
}

// CPUListSym returns the symbol of CPU cpu's list of kind k (ListLocalFree, ...).
func CPUListSym(cpu, k int) Sym { return symCPULists[cpu][k] }

// LockRef names a lock instance: cpuN.local, lru.global, cpuN.lru, or htab.bucket[I].
type LockRef struct {
	Sym    Sym   // the lock, or symBucketLock for a bucket's
	Bucket int32 // the bucket, for a bucket's lock
}

// CPULocalLock, CPULRULock, GlobalLRULock and BucketLock make the LockRef of a lock.
func CPULocalLock(cpu int) LockRef  { return LockRef{Sym: symCPULocks[cpu][0]} }
func CPULRULock(cpu int) LockRef    { return LockRef{Sym: symCPULocks[cpu][1]} }
func GlobalLRULock() LockRef        { return LockRef{Sym: symLRUGlobal} }
func BucketLock(bucket int) LockRef { return LockRef{Sym: symBucketLock, Bucket: int32(bucket)} }
func (l LockRef) IsBucket() bool    { return l.Sym == symBucketLock }

// String returns the lock's id. The ids of the first maxBucketNames buckets' locks are made
// once and kept, so that folding a trace does not allocate one for every bucket lock.
func (l LockRef) String() string {
	if l.Sym == symBucketLock {
		return bucketName(l.Bucket)
	}
	return l.Sym.String()
}

const maxBucketNames = 1 << 17

var (
	bucketNames   atomic.Pointer[[]string]
	bucketNamesMu sync.Mutex
)

func bucketName(b int32) string {
	if p := bucketNames.Load(); p != nil && b >= 0 && int(b) < len(*p) {
		return (*p)[b]
	}
	if b < 0 || b >= maxBucketNames {
		return "htab.bucket[" + strconv.Itoa(int(b)) + "]"
	}
	bucketNamesMu.Lock()
	defer bucketNamesMu.Unlock()
	var old []string
	if p := bucketNames.Load(); p != nil {
		old = *p
	}
	if int(b) < len(old) {
		return old[b]
	}
	n := min(maxBucketNames, max(2*len(old), int(b)+1, 1024))
	names := make([]string, n)
	copy(names, old)
	for i := len(old); i < n; i++ {
		names[i] = "htab.bucket[" + strconv.Itoa(i) + "]"
	}
	bucketNames.Store(&names)
	return names[b]
}

// ParseLock returns the LockRef of a lock id.
func ParseLock(id string) (LockRef, error) {
	if b, ok := strings.CutPrefix(id, "htab.bucket["); ok {
		n, err := strconv.ParseInt(strings.TrimSuffix(b, "]"), 10, 32)
		if err != nil || !strings.HasSuffix(b, "]") || n < 0 {
			return LockRef{}, fmt.Errorf("lock %q: bad bucket", id)
		}
		return BucketLock(int(n)), nil
	}
	s, ok := LookupSym(id)
	if !ok || !isLockSym(s) {
		return LockRef{}, fmt.Errorf("no lock %q", id)
	}
	return LockRef{Sym: s}, nil
}

func isLockSym(s Sym) bool {
	if s == symLRUGlobal {
		return true
	}
	n := s.String()
	return strings.HasPrefix(n, "cpu") && (strings.HasSuffix(n, ".local") || strings.HasSuffix(n, ".lru"))
}

// ---- reasons ----------------------------------------------------------------------------------

// A reason (of a gap or a note) is a registered template: its words, and in braces the places
// where an event's fields go: {lock} (the event's lock: LockRef), {elem} (Elem), {list} (the
// list: its List), {cpu} (Value). The engine registers its reasons with Reason when it
// initialises; the JSON Lines reader reads a reason back by matching the templates.
type template struct {
	text  string
	parts []string // literal, place, literal, place, ..., literal
}

var (
	templatesMu sync.Mutex
	templates   = func() *atomic.Pointer[map[Sym]*template] {
		p := new(atomic.Pointer[map[Sym]*template])
		p.Store(&map[Sym]*template{})
		return p
	}()
	// templateOrd holds the templates in registration order, for matching.
	templateOrd = func() *atomic.Pointer[[]Sym] {
		p := new(atomic.Pointer[[]Sym])
		p.Store(&[]Sym{})
		return p
	}()
)

// RegisterReason registers a reason template and returns its symbol.
func RegisterReason(text string) Sym {
	s := Intern(text)
	templatesMu.Lock()
	defer templatesMu.Unlock()
	old := *templates.Load()
	if _, ok := old[s]; ok {
		return s
	}
	t := &template{text: text}
	rest := text
	for {
		i := strings.IndexByte(rest, '{')
		j := strings.IndexByte(rest, '}')
		if i < 0 || j < i {
			t.parts = append(t.parts, rest)
			break
		}
		place := rest[i : j+1]
		switch place {
		case "{lock}", "{elem}", "{list}", "{cpu}":
		default:
			panic("trace: reason template " + strconv.Quote(text) + " has an unknown place " + place)
		}
		t.parts = append(t.parts, rest[:i], place)
		rest = rest[j+1:]
	}
	m := make(map[Sym]*template, len(old)+1)
	for k, v := range old {
		m[k] = v
	}
	m[s] = t
	templates.Store(&m)
	ord := append(append([]Sym(nil), *templateOrd.Load()...), s)
	templateOrd.Store(&ord)
	return s
}

// render writes a reason's template with the event's fields in its places.
func (ev *Event) renderReason() string {
	t := (*templates.Load())[ev.a]
	if t == nil || len(t.parts) == 1 {
		return ev.a.String()
	}
	var b strings.Builder
	for i, p := range t.parts {
		if i%2 == 0 {
			b.WriteString(p)
			continue
		}
		switch p {
		case "{lock}":
			b.WriteString(LockRef{Sym: ev.b, Bucket: ev.Bucket}.String())
		case "{elem}":
			b.WriteString(strconv.Itoa(int(ev.Elem)))
		case "{list}":
			b.WriteString(ev.c.String())
		case "{cpu}":
			b.WriteString(strconv.FormatUint(ev.Value, 10))
		}
	}
	return b.String()
}

// parseReason reads a reason back into ev's fields: the first registered template it matches.
func (ev *Event) parseReason(reason string) error {
	if s, ok := LookupSym(reason); ok {
		if t := (*templates.Load())[s]; t != nil && len(t.parts) == 1 {
			ev.a = s
			return nil
		}
	}
	tm := *templates.Load()
	for _, s := range *templateOrd.Load() {
		t := tm[s]
		if len(t.parts) == 1 {
			continue
		}
		try := *ev
		if try.matchReason(t, reason) {
			try.a = s
			*ev = try
			return nil
		}
	}
	return fmt.Errorf("unknown reason %q", reason)
}

// matchReason fills ev's fields from reason if it has t's shape.
func (ev *Event) matchReason(t *template, reason string) bool {
	rest := reason
	for i := 0; i < len(t.parts); i++ {
		p := t.parts[i]
		if i%2 == 0 {
			if !strings.HasPrefix(rest, p) {
				return false
			}
			rest = rest[len(p):]
			continue
		}
		// A place runs to the next literal (the last place, to the end).
		end := len(rest)
		if next := t.parts[i+1]; next != "" {
			end = strings.Index(rest, next)
			if end < 0 {
				return false
			}
		}
		val := rest[:end]
		rest = rest[end:]
		switch p {
		case "{lock}":
			l, err := ParseLock(val)
			if err != nil {
				return false
			}
			ev.b, ev.Bucket = l.Sym, l.Bucket
		case "{elem}":
			n, err := strconv.ParseInt(val, 10, 32)
			if err != nil {
				return false
			}
			ev.Elem = int32(n)
		case "{list}":
			s, ok := LookupSym(val)
			if !ok || !isListSym(s) {
				return false
			}
			ev.c = s
		case "{cpu}":
			n, err := strconv.ParseUint(val, 10, 16)
			if err != nil {
				return false
			}
			ev.Value = n
		}
	}
	return rest == ""
}

func isListSym(s Sym) bool {
	if s == symGlobalActive || s == symGlobalInactive || s == symGlobalFree {
		return true
	}
	n := s.String()
	if !strings.HasPrefix(n, "cpu") {
		return false
	}
	_, kind, ok := strings.Cut(n, ".")
	if !ok {
		return false
	}
	for _, k := range cpuListNames {
		if k == kind {
			return true
		}
	}
	return false
}
