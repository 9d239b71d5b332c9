// SPDX-License-Identifier: GPL-2.0-only

package scenario

import (
	"strconv"
	"strings"

	"github.com/lruviz/lruviz/trace"
)

// Pos is a position in a scenario file. Line and Col are 1-based, and Col
// counts bytes, so a tab is one column like any other byte; that is what
// editors that jump to FILE:LINE:COL expect of a byte-oriented tool.
type Pos struct {
	Line, Col int
}

// String formats the position as LINE:COL.
func (p Pos) String() string {
	return strconv.Itoa(p.Line) + ":" + strconv.Itoa(p.Col)
}

// File is a parsed scenario.
type File struct {
	// Name is the file name given to Parse; errors found later (by the
	// engine or by run) use it too.
	Name string
	// Title is the text of the `title` statement, or "" without one.
	Title string
	// About holds the `about` lines in order: the lines of a paragraph.
	About []string
	// Map is the map statement.
	Map MapDecl
	// Body holds the top-level statements in file order: *Op,
	// *ExpectKeys, *Assert, *Parallel and *Interrupt.
	Body []Stmt
	// Ops holds every operation in file order, including those inside
	// blocks; Ops[i].Index == i, which is the trace's `op` field.
	Ops []*Op
	// Goals are the `goal` statements in file order: what a challenge asks the learner to make
	// happen. They are checked on the whole trace (CheckGoals), not as the scenario runs.
	Goals []*Goal
}

// Kernel behaviour profiles accepted by `kernel=` (engine.ProfileByName): the flowchart's
// kernel, mainline v6.18, and v6.18 with the LRU rqspinlock change that these machines' 6.18.44
// builds carry.
const (
	Kernel68               = "6.8"
	Kernel618              = "6.18"
	Kernel618LRURqspinlock = "6.18-lru-rqspinlock"
)

// Kernels lists the profiles `kernel=` accepts, oldest first.
var Kernels = []string{Kernel68, Kernel618, Kernel618LRURqspinlock}

// Defaults of the map statement's optional settings.
const (
	DefaultCPUs   = 4
	DefaultKernel = Kernel68
	MaxCPUs       = 128
)

// MapDecl is the map statement:
//
//	map TYPE entries=N [cpus=N] [no_common_lru] [kernel=PROFILE] [seed=N] [virt_spin_lock]
//
// The positions of settings are those of their values (after the '='), zero
// when a setting is not given. The parser checks the syntax and the ranges
// the language defines; whether the kernel would create such a map
// (entries=0, for one) is the engine's to say, so that its message names the
// kernel's errno.
type MapDecl struct {
	Pos         Pos           // position of the `map` word
	Type        trace.MapType // trace.ParseMapType of the TYPE word
	TypePos     Pos
	Entries     uint64 // max_entries, as written
	EntriesPos  Pos
	CPUs        int // simulated possible CPUs, 1..MaxCPUs
	CPUsPos     Pos
	NoCommonLRU bool
	Kernel      string // one of Kernels
	KernelPos   Pos
	Seed        uint32 // hash seed
	SeedPos     Pos
	// VirtSpinLock runs the kernel as a guest without paravirtual spinlocks: every spinlock
	// falls back to virt_spin_lock's unfair test-and-set (engine.Profile.VirtSpinLock).
	VirtSpinLock bool
}

// Stmt is a statement of a scenario's body: *Op, *ExpectKeys, *Assert,
// *Parallel or *Interrupt.
type Stmt interface {
	// StmtPos is the position of the statement's first word.
	StmtPos() Pos
}

// Operation names.
const (
	OpUpdate    = "update"
	OpLookup    = "lookup"
	OpSysLookup = "sys_lookup"
	OpDelete    = "delete"
)

// Update flags as the kernel numbers them (BPF_ANY, BPF_NOEXIST, BPF_EXIST).
const (
	FlagAny     = 0
	FlagNoExist = 1
	FlagExist   = 2
)

// Op is one map operation:
//
//	cpu N update KEY VALUE [any|noexist|exist|flags=N] [expect RESULT]
//	cpu N lookup KEY [expect VALUE|-ENOENT|DEADLOCK]
//	cpu N sys_lookup KEY [expect VALUE|-ENOENT|DEADLOCK]
//	cpu N delete KEY [expect RESULT]
type Op struct {
	Pos       Pos // position of the `cpu` word
	Index     int // 0-based index among all operations, in file order
	CPU       int
	CPUPos    Pos
	Name      string // OpUpdate, OpLookup, OpSysLookup or OpDelete
	Key       uint64
	Value     uint64   // update only
	Flags     uint64   // update only: FlagAny unless given
	FlagsText string   // update only: "any", "noexist", "exist" or "flags=N"
	Expect    *Expect  // nil without an expect clause
	Say       []string // narration: the `say` lines right before the operation
}

// StmtPos implements Stmt.
func (op *Op) StmtPos() Pos { return op.Pos }

// String writes the operation canonically, as `lruviz run` prints it:
// decimal numbers and, for updates, the flags word always present
// ("cpu 0 update 1 2 any", "cpu 1 lookup 1"). The expect clause and the
// narration are not part of it.
func (op *Op) String() string {
	var b strings.Builder
	b.WriteString("cpu ")
	b.WriteString(strconv.Itoa(op.CPU))
	b.WriteByte(' ')
	b.WriteString(op.Name)
	b.WriteByte(' ')
	b.WriteString(strconv.FormatUint(op.Key, 10))
	if op.Name == OpUpdate {
		b.WriteByte(' ')
		b.WriteString(strconv.FormatUint(op.Value, 10))
		b.WriteByte(' ')
		b.WriteString(FlagsText(op.Flags))
	}
	return b.String()
}

// FlagsText returns the canonical spelling of update flags: "any",
// "noexist" or "exist" for the kernel's three named values, else "flags=N"
// in decimal. The same number always gets the same text, whichever way the
// file wrote it, so that output can be compared as text.
func FlagsText(flags uint64) string {
	switch flags {
	case FlagAny:
		return "any"
	case FlagNoExist:
		return "noexist"
	case FlagExist:
		return "exist"
	}
	return "flags=" + strconv.FormatUint(flags, 10)
}

// Expect is an operation's expect clause.
type Expect struct {
	Pos Pos // position of the `expect` word
	// Text is the expected result as op_end's `result` spells it: "0",
	// an errno name with its minus ("-EEXIST"), "DEADLOCK", or for a
	// lookup the expected value in decimal.
	Text string
	// IsValue is true when a lookup expects a value, which is then Value.
	IsValue bool
	Value   uint64
}

// ExpectKeys is `expect keys [KEY...]`: the exact set of keys in the map
// at that point.
type ExpectKeys struct {
	Pos  Pos
	Keys []uint64 // ascending, without duplicates
}

// StmtPos implements Stmt.
func (e *ExpectKeys) StmtPos() Pos { return e.Pos }

// Kinds of Assert, as the word after `expect` spells them.
const (
	AssertEvicted   = "evicted"
	AssertList      = "list"
	AssertCount     = "count"
	AssertRef       = "ref"
	AssertNoRef     = "noref"
	AssertNextSteal = "next_steal"
	AssertTook      = "took"
	AssertWaited    = "waited"
	AssertFailed    = "failed"
	AssertWaits     = "waits"
	AssertUntaken   = "untaken"
	AssertOrder     = "order"
)

// Assert is an `expect` statement about the map's state, other than
// `expect keys`:
//
//	expect evicted [KEY...]       the keys the LRU evicted (removed from the hash table through
//	                              htab_lru_map_delete_node) in the operation or group before it
//	expect list LIST [KEY|-]...   the elements on LIST now, head to tail: each one's key, or -
//	                              for an element not in the hash table
//	expect count LIST N           the number of elements on LIST now
//	expect ref KEY...             these keys' elements have their reference bit set
//	expect noref KEY...           these keys' elements have it clear
//	expect next_steal CPU N       CPU's next_steal is N (common LRU)
//
// and, about the lock events of the operation or group before it:
//
//	expect took CPU LOCK [as CLASS] [holding LOCK...]
//	                              CPU took LOCK (recorded with that class), at least once while
//	                              it held all those locks
//	expect waited CPU LOCK        CPU spun on LOCK (lock_wait)
//	expect failed CPU LOCK RESULT [CHECK]
//	                              taking LOCK failed on CPU with RESULT (-EBUSY, -EDEADLK,
//	                              -ETIMEDOUT), found by CHECK (AA, ABBA, timeout, queue)
//	expect waits N                the CPUs spun N times in all (lock_wait events)
//	expect untaken LOCK           no CPU took LOCK, spun on it or failed to take it
//	expect order LOCK CPU...      the CPUs that took LOCK, in the order they took it
//
// LIST is a list as traces name it: global.active, global.inactive,
// global.free, cpuN.local_free and cpuN.pending in a common LRU;
// cpuN.active, cpuN.inactive and cpuN.free in a per-CPU LRU. LOCK is a lock
// id: cpuN.local and lru.global (common LRU), cpuN.lru (per-CPU LRU),
// htab.bucket[I].
type Assert struct {
	Pos  Pos    // position of the `expect` word
	Kind string // one of the Assert* kinds
	// Keys are the keys of evicted (ascending, without duplicates), ref and
	// noref (as written, without duplicates).
	Keys []uint64
	// List is the list of list and count, at ListPos.
	List    string
	ListPos Pos
	// Elems are list's elements, head to tail.
	Elems []ListElem
	// N is count's number, next_steal's value, waits' number.
	N int
	// CPU is the CPU of next_steal, took, waited and failed.
	CPU int
	// CPUs are order's CPUs.
	CPUs []int
	// Lock is the lock of took, waited, failed, untaken and order, at LockPos.
	Lock    string
	LockPos Pos
	// Class is took's class ("" if not given); Holding its held locks.
	Class   string
	Holding []string
	// Result and Check are failed's result and check ("" if not given).
	Result string
	Check  string
}

// StmtPos implements Stmt.
func (a *Assert) StmtPos() Pos { return a.Pos }

// ListElem is one element of an `expect list`: a key, or none (written -).
type ListElem struct {
	Key   uint64
	NoKey bool
}

// String writes the element as the language spells it.
func (e ListElem) String() string {
	if e.NoKey {
		return "-"
	}
	return strconv.FormatUint(e.Key, 10)
}

// Parallel is a group of operations run at once:
//
//	parallel [seed=S] [schedule=STEPS] {
//	...
//	}
type Parallel struct {
	Pos  Pos    // position of the `parallel` word
	End  Pos    // position of the closing `}`
	Seed uint64 // scheduler seed, 0 unless given
	// Schedule is the explicit interleaving, nil without one.
	Schedule []SchedStep
	// SchedulePos is the position of the schedule= option (its first byte), zero without one,
	// and ScheduleLen its length in bytes: where WithSchedule rewrites it.
	SchedulePos Pos
	ScheduleLen int
	// Body holds the group's statements in file order: *Op and *Interrupt.
	Body []Stmt
}

// StmtPos implements Stmt.
func (p *Parallel) StmtPos() Pos { return p.Pos }

// SchedStep is one comma-separated step of a parallel group's schedule:
//
//	N      run CPU N for one step (to its next trace point)
//	NxK    run CPU N for K steps
//	N@ID   run CPU N until it emits trace point ID (a node id, a lock id, wait:LOCK or scan:LIST)
//	N*     run CPU N to the end of its work in the group
type SchedStep struct {
	Pos   Pos // position of the step inside the schedule= word
	CPU   int
	Count int    // steps to run; 0 when Until or ToEnd is set
	Until string // trace point to run to, "" if none
	ToEnd bool
}

// String writes the step as the language spells it.
func (s SchedStep) String() string {
	n := strconv.Itoa(s.CPU)
	switch {
	case s.ToEnd:
		return n + "*"
	case s.Until != "":
		return n + "@" + s.Until
	case s.Count == 1:
		return n
	}
	return n + "x" + strconv.Itoa(s.Count)
}

// Interrupt is an operation interrupted at a trace point by others on the
// same CPU, as a tracing program attached there would re-enter the map:
//
//	interrupt at=ID [nth=K] [optional] {
//	cpu N ...     # the victim, interrupted at the K-th time it reaches ID
//	cpu N ...     # the handler's operations, run in order, each to completion
//	}
type Interrupt struct {
	Pos   Pos    // position of the `interrupt` word
	End   Pos    // position of the closing `}`
	At    string // trace point: a node id, a lock id, wait:LOCK or scan:LIST
	AtPos Pos    // position of the id, after "at="
	Nth   int    // which time the victim reaches At; 1 unless given
	// Optional says the interrupt may not come: a program on a tracepoint that fires only in
	// some runs (contention_begin, at=wait:LOCK). Its point not passed is no failure, and its
	// handler's operations do not run.
	Optional bool
	// Victim is the block's first operation, the one interrupted.
	Victim *Op
	// Handler holds the remaining operations (at least one).
	Handler []*Op
}

// StmtPos implements Stmt.
func (in *Interrupt) StmtPos() Pos { return in.Pos }
