// SPDX-License-Identifier: GPL-2.0-only

package verify

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/lruviz/lruviz/engine"
	"github.com/lruviz/lruviz/scenario"
)

// flagsWord spells update flags as the scenario language does: any,
// noexist, exist or flags=N.
func flagsWord(f engine.UpdateFlags) string {
	return scenario.FlagsText(uint64(f))
}

// Scenario renders p as a scenario file whose expectations are the kernel's
// results in kernelTrace: every operation gets an `expect` clause, and the
// last operation is followed by `expect keys` with the kernel's key set.
// For a program minimised by Shrink, the last operation is where the two
// sides first differ, so running the file on the engine (`lruviz run`)
// fails exactly there. The map statement names the host kernel's profile
// (see HostProfile; 6.18 if the host has none), and the header comment
// records p.Origin and the kernel release the expectations came from.
func Scenario(p Program, kernelTrace Trace) string {
	return scenarioText(p, kernelTrace, "")
}

// scenarioText is Scenario with the map statement naming profile (the
// host's when empty).
func scenarioText(p Program, kernelTrace Trace, profile string) string {
	var b strings.Builder
	b.WriteString("# Found by lruviz verify-kernel")
	if p.Origin != "" {
		b.WriteString(" (" + p.Origin + ")")
	}
	host := scenario.Kernel618
	if prof, release, err := HostProfile(); err == nil {
		b.WriteString(" on Linux " + release)
		host = prof.Name
	}
	if profile == "" {
		profile = host
	}
	b.WriteString(".\n# Every expectation is the real kernel's result.\n")
	fmt.Fprintf(&b, "map %s entries=%d cpus=%d", p.Type, p.Entries, p.CPUs)
	if p.NoCommonLRU {
		b.WriteString(" no_common_lru")
	}
	b.WriteString(" kernel=" + profile + "\n")
	for i, op := range p.Ops {
		b.WriteString(opString(op))
		if i < len(kernelTrace.Steps) {
			b.WriteString(" expect " + kernelTrace.Steps[i].Result)
		}
		b.WriteByte('\n')
	}
	if n := min(len(p.Ops), len(kernelTrace.Steps)); n > 0 {
		b.WriteString("expect keys")
		for _, k := range kernelTrace.Steps[n-1].Keys {
			b.WriteString(" " + strconv.FormatUint(k, 10))
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// ProgramFromScenario turns a sequential scenario into a program for a
// machine with ncpus possible CPUs. Its expectations are ignored (the
// kernel's results are the expectations), and so are its kernel= (the host
// profile applies) and its seed= (kernel maps use BPF_F_ZERO_SEED; sequential
// results do not depend on the bucket layout). A scenario with parallel or
// interrupt blocks, or whose cpus differs from ncpus, is an error.
func ProgramFromScenario(f *scenario.File, ncpus int) (Program, error) {
	if f.Map.CPUs != ncpus {
		return Program{}, fmt.Errorf("%s:%s: the scenario has cpus=%d but this machine has %d possible CPUs; verify-kernel needs them equal",
			f.Name, posOf(f.Map.CPUsPos, f.Map.Pos), f.Map.CPUs, ncpus)
	}
	p := Program{CPUs: ncpus, NoCommonLRU: f.Map.NoCommonLRU, Origin: "file " + f.Name}
	if !f.Map.Type.Valid() {
		return Program{}, fmt.Errorf("%s:%s: unknown map type %q", f.Name, f.Map.TypePos, f.Map.Type)
	}
	p.Type = f.Map.Type
	if f.Map.Entries > math.MaxUint32 {
		return Program{}, fmt.Errorf("%s:%s: entries=%d does not fit max_entries (32 bits)", f.Name, f.Map.EntriesPos, f.Map.Entries)
	}
	p.Entries = uint32(f.Map.Entries)
	var ops []engine.Op
	for _, st := range f.Body {
		switch s := st.(type) {
		case *scenario.Op:
			op, err := engineOp(s)
			if err != nil {
				return Program{}, fmt.Errorf("%s:%s: %w", f.Name, s.Pos, err)
			}
			ops = append(ops, op)
		case *scenario.ExpectKeys, *scenario.Assert:
			// The engine checks these when it runs the scenario; with --deep the kernel's lists
			// are compared with the engine's after every operation, which covers them too.
		case *scenario.Parallel:
			return Program{}, fmt.Errorf("%s:%s: verify-kernel runs sequential scenarios only, not parallel blocks", f.Name, s.Pos)
		case *scenario.Interrupt:
			return Program{}, fmt.Errorf("%s:%s: verify-kernel runs sequential scenarios only, not interrupt blocks", f.Name, s.Pos)
		default:
			return Program{}, fmt.Errorf("%s:%s: unsupported statement %T", f.Name, st.StmtPos(), st)
		}
	}
	return p.withOps(ops), nil
}

// posOf returns pos, or fallback when pos is unset.
func posOf(pos, fallback scenario.Pos) scenario.Pos {
	if pos.Line == 0 {
		return fallback
	}
	return pos
}

// engineOp converts a scenario operation.
func engineOp(s *scenario.Op) (engine.Op, error) {
	op := engine.Op{CPU: s.CPU, Key: s.Key}
	switch s.Name {
	case scenario.OpUpdate:
		op.Kind, op.Value, op.Flags = engine.OpUpdate, s.Value, engine.UpdateFlags(s.Flags)
	case scenario.OpLookup:
		op.Kind = engine.OpLookup
	case scenario.OpSysLookup:
		op.Kind = engine.OpSysLookup
	case scenario.OpDelete:
		op.Kind = engine.OpDelete
	default:
		return engine.Op{}, fmt.Errorf("unknown operation %q", s.Name)
	}
	return op, nil
}
