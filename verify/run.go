// SPDX-License-Identifier: GPL-2.0-only

package verify

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"syscall"

	"github.com/lruviz/lruviz/engine"
	"github.com/lruviz/lruviz/kernelmap"
	"github.com/lruviz/lruviz/scenario"
	"github.com/lruviz/lruviz/trace"
)

// Trace is what one side did with a program.
type Trace struct {
	// Create is the result of creating the map: "0", or the errno name the
	// creation failed with (then Steps is empty).
	Create string
	// Steps holds one entry per operation.
	Steps []Step
}

// Step is the outcome of one operation.
type Step struct {
	// Result is "0" or an errno name ("-EEXIST") as engine.ErrName writes
	// it; for a successful lookup, the value in decimal.
	Result string
	// Keys is the map's key set after the operation, in ascending order.
	// Consecutive steps with the same key set may share the slice.
	Keys []uint64
}

// RunKernel runs p on a freshly created kernel map. Updates of an
// LRUPercpuHash map are program-side updates on the operation's CPU, writing
// only that CPU's slot as the engine models it; updates of an LRUHash map
// are syscall updates, which reach the same kernel function. Lookups run
// from a program (OpLookup, setting the reference bit) or from user space
// (OpSysLookup), on the operation's CPU, and return that CPU's slot. The key
// set is read after every update and delete; lookups keep the previous one.
//
// A map the kernel refuses is a Trace whose Create names the errno; the
// error is reserved for failures of the harness, such as a CPU count that
// differs from p.CPUs.
func RunKernel(p Program) (Trace, error) {
	k, create, err := openKernel(p)
	if err != nil || create != "0" {
		return Trace{Create: create}, err
	}
	defer k.close()
	t := Trace{Create: "0", Steps: make([]Step, len(p.Ops))}
	for i, op := range p.Ops {
		if t.Steps[i], err = k.step(i, op); err != nil {
			return Trace{}, err
		}
	}
	return t, nil
}

// kernelSide runs a program's operations on a kernel map one at a time.
type kernelSide struct {
	m    *kernelmap.Map
	p    Program
	keys []uint64
}

// openKernel creates p's map in the kernel. create is "0", or the errno
// name the kernel refused the map with (then k is nil).
func openKernel(p Program) (k *kernelSide, create string, err error) {
	m, err := kernelmap.Open(kernelmap.Spec{Type: p.Type, MaxEntries: p.Entries, NoCommonLRU: p.NoCommonLRU})
	if err != nil {
		var errno syscall.Errno
		if errors.As(err, &errno) {
			return nil, engine.ErrName(errno), nil
		}
		return nil, "", err
	}
	if n := m.PossibleCPUs(); n != p.CPUs {
		m.Close()
		return nil, "", fmt.Errorf("verify: the program is for %d CPUs, the kernel has %d possible CPUs", p.CPUs, n)
	}
	return &kernelSide{m: m, p: p}, "0", nil
}

func (k *kernelSide) close() { k.m.Close() }

// step runs operation i.
func (k *kernelSide) step(i int, op engine.Op) (Step, error) {
	res, err := kernelOp(k.m, k.p.Type, i, op)
	if err != nil {
		return Step{}, err
	}
	st := Step{Result: res}
	if op.Kind == engine.OpLookup || op.Kind == engine.OpSysLookup {
		// A kernel lookup never adds or removes an element (it only
		// sets the reference bit), so the walk of the key set, which
		// costs a syscall per key, is skipped. The engine's key set is
		// still taken after every operation, so an engine lookup that
		// changes it still shows as a difference.
		st.Keys = k.keys
		return st, nil
	}
	next, err := k.m.Keys()
	if err != nil {
		return Step{}, fmt.Errorf("verify: kernel keys after operation %d: %w", i, err)
	}
	if !slices.Equal(next, k.keys) {
		k.keys = next
	}
	st.Keys = k.keys
	return st, nil
}

// kernelOp runs operation i on the kernel map m of type typ and returns its result as traces
// spell it.
func kernelOp(m *kernelmap.Map, typ trace.MapType, i int, op engine.Op) (string, error) {
	var (
		errno syscall.Errno
		value uint64
		err   error
	)
	switch op.Kind {
	case engine.OpUpdate:
		if typ == trace.LRUPercpuHash {
			errno, err = m.UpdateProg(op.CPU, op.Key, op.Value, uint64(op.Flags))
		} else {
			errno, err = m.Update(op.CPU, op.Key, op.Value, uint64(op.Flags))
		}
	case engine.OpLookup:
		value, errno, err = m.LookupProg(op.CPU, op.Key)
	case engine.OpSysLookup:
		value, errno, err = m.LookupSys(op.CPU, op.Key)
	case engine.OpDelete:
		errno, err = m.Delete(op.CPU, op.Key)
	default:
		err = fmt.Errorf("verify: operation %d has unknown kind %d", i, op.Kind)
	}
	if err != nil {
		return "", fmt.Errorf("verify: kernel operation %d (%s): %w", i, opString(op), err)
	}
	return resultString(op.Kind, errno, value), nil
}

// RunEngine runs p on a fresh simulated map with profile prof. A map the
// engine refuses is a Trace whose Create names the errno. An engine panic
// (a broken invariant) is returned as an error.
func RunEngine(p Program, prof *engine.Profile) (Trace, error) {
	e, create, err := openEngine(p, prof)
	if err != nil || create != "0" {
		return Trace{Create: create}, err
	}
	t := Trace{Create: "0", Steps: make([]Step, len(p.Ops))}
	for i, op := range p.Ops {
		if t.Steps[i], err = e.step(i, op); err != nil {
			return Trace{}, err
		}
	}
	return t, nil
}

// engineSide runs a program's operations on the engine one at a time.
type engineSide struct {
	m    *engine.Map
	keys []uint64
}

// openEngine creates p's map in the engine; create as openKernel.
func openEngine(p Program, prof *engine.Profile) (*engineSide, string, error) {
	m, err := engine.NewMap(p.spec(), engine.Options{CPUs: p.CPUs, Profile: prof})
	if err != nil {
		var ce *engine.CreateError
		if errors.As(err, &ce) {
			return nil, engine.ErrName(ce.Errno), nil
		}
		return nil, "", fmt.Errorf("verify: engine: %w", err)
	}
	return &engineSide{m: m}, "0", nil
}

// step runs operation i; an engine panic is an error.
func (e *engineSide) step(i int, op engine.Op) (st Step, err error) {
	defer func() {
		if r := recover(); r != nil {
			st, err = Step{}, fmt.Errorf("verify: engine panicked: %v", r)
		}
	}()
	op.Index = i
	r := e.m.Exec(op)
	if r.Err != nil && !errors.As(r.Err, new(syscall.Errno)) {
		return Step{}, fmt.Errorf("verify: engine operation %d (%s): %w", i, opString(op), r.Err)
	}
	var errno syscall.Errno
	if r.Err != nil {
		errno = r.Err.(syscall.Errno)
	}
	st.Result = resultString(op.Kind, errno, r.Value)
	next := e.m.Keys()
	if !slices.Equal(next, e.keys) {
		e.keys = next
	}
	st.Keys = e.keys
	return st, nil
}

// resultString spells an operation's outcome as traces do.
func resultString(kind engine.OpKind, errno syscall.Errno, value uint64) string {
	if errno != 0 {
		return engine.ErrName(errno)
	}
	if kind == engine.OpLookup || kind == engine.OpSysLookup {
		return strconv.FormatUint(value, 10)
	}
	return "0"
}

// opString writes an operation as a scenario does, without expectation.
func opString(op engine.Op) string {
	s := "cpu " + strconv.Itoa(op.CPU) + " " + op.Kind.String() + " " + strconv.FormatUint(op.Key, 10)
	if op.Kind == engine.OpUpdate {
		s += " " + strconv.FormatUint(op.Value, 10) + " " + flagsWord(op.Flags)
	}
	return s
}

// Diff is the first difference between two traces, or between the two
// sides' LRU states (checkDeep).
type Diff struct {
	// Op is the index of the first operation whose result, key set or state
	// differs, or -1 when map creation (or the fresh map's state) differs.
	Op int
	// What is "create", "result", "keys", "length", "engine" (the engine
	// failed), or for a difference of LRU state (State) the first thing
	// that differs: "list global.inactive", "target_free", "element 5 ref".
	What string
	// A and B are the differing results, or key sets written as `expect
	// keys` writes them, of the first and the second trace; for a state,
	// the kernel's value (A) and the engine's (B).
	A, B string
	// State says the difference is in the LRU state (checkDeep); Detail
	// then shows both states side by side.
	State  bool
	Detail string
}

// String describes the difference, e.g. "operation 3: keys 1 5 vs 1".
func (d *Diff) String() string {
	switch {
	case d.What == "create":
		return fmt.Sprintf("map creation: %s vs %s", d.A, d.B)
	case d.State && d.Op < 0:
		return fmt.Sprintf("the fresh map: %s: %s vs %s", d.What, d.A, d.B)
	case d.State:
		return fmt.Sprintf("operation %d: %s: %s vs %s", d.Op, d.What, d.A, d.B)
	}
	return fmt.Sprintf("operation %d: %s %s vs %s", d.Op, d.What, d.A, d.B)
}

// Compare returns the first difference between a and b, operation by
// operation (the result first, then the key set), or nil if they agree.
func Compare(a, b Trace) *Diff {
	if a.Create != b.Create {
		return &Diff{Op: -1, What: "create", A: a.Create, B: b.Create}
	}
	n := min(len(a.Steps), len(b.Steps))
	for i := range n {
		if d := compareSteps(i, a.Steps[i], b.Steps[i]); d != nil {
			return d
		}
	}
	if len(a.Steps) != len(b.Steps) {
		return &Diff{Op: n, What: "length", A: strconv.Itoa(len(a.Steps)) + " operations", B: strconv.Itoa(len(b.Steps)) + " operations"}
	}
	return nil
}

// compareSteps compares operation i's outcomes: the result, then the key set.
func compareSteps(i int, sa, sb Step) *Diff {
	if sa.Result != sb.Result {
		return &Diff{Op: i, What: "result", A: sa.Result, B: sb.Result}
	}
	if !slices.Equal(sa.Keys, sb.Keys) {
		return &Diff{Op: i, What: "keys", A: scenario.KeysText(sa.Keys), B: scenario.KeysText(sb.Keys)}
	}
	return nil
}
