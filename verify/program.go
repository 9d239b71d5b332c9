// SPDX-License-Identifier: GPL-2.0-only

package verify

import (
	"math/rand/v2"

	"github.com/lruviz/lruviz/engine"
	"github.com/lruviz/lruviz/trace"
)

// Program is a sequence of operations on one freshly created map: the unit
// that both sides run and that the shrinker minimises.
type Program struct {
	Type        trace.MapType
	Entries     uint32 // max_entries as requested (the kernel rounds it up for NoCommonLRU)
	NoCommonLRU bool
	CPUs        int         // possible CPUs; must equal the host's for the kernel side
	Ops         []engine.Op // Ops[i].Index == i
	// Origin says where the program came from ("seed 17", a file name), for
	// the header of the scenario that Scenario writes. It does not affect
	// the run.
	Origin string
}

// spec returns the engine's description of the program's map.
func (p Program) spec() engine.MapSpec {
	s := engine.MapSpec{Type: p.Type, MaxEntries: p.Entries}
	if p.NoCommonLRU {
		s.Flags = engine.NoCommonLRU
	}
	return s
}

// config names the program's map configuration, e.g. "lru_hash" or
// "lru_percpu_hash no_common_lru".
func (p Program) config() string {
	return configName(p.Type, p.NoCommonLRU)
}

func configName(t trace.MapType, noCommonLRU bool) string {
	if noCommonLRU {
		return t.String() + " no_common_lru"
	}
	return t.String()
}

// withOps returns a copy of p with the given operations, renumbered so
// that each operation's Index is its position.
func (p Program) withOps(ops []engine.Op) Program {
	q := p
	q.Ops = make([]engine.Op, len(ops))
	for i, op := range ops {
		op.Index = i
		q.Ops[i] = op
	}
	return q
}

// GenConfig configures Generate.
type GenConfig struct {
	// Ops is the number of operations; 0 means DefaultOps.
	Ops int
	// Entries is max_entries; 0 picks one per seed from a varied set of
	// sizes (see entryChoices).
	Entries uint32
	// Type is the map type; 0 means trace.LRUHash.
	Type trace.MapType
	// NoCommonLRU requests BPF_F_NO_COMMON_LRU.
	NoCommonLRU bool
	// CPUs is the number of possible CPUs; 0 means 2.
	CPUs int
}

// DefaultOps is the length of a generated program unless GenConfig says
// otherwise.
const DefaultOps = 300

// entryChoices are the map sizes Generate picks from: tiny maps where every
// insert evicts, sizes around the per-CPU split and around v6.16's
// target_free = clamp(entries/ncpus/2, 1, 128) (1 for the smallest maps,
// the upper clamp for the largest), odd sizes that BPF_F_NO_COMMON_LRU
// rounds up, and maps large enough that 300 operations rarely fill them.
var entryChoices = []uint32{1, 2, 3, 4, 5, 7, 8, 16, 31, 64, 100, 128, 130, 200, 257, 300, 600}

// invalidFlags are update flags the kernel refuses with -EINVAL: both
// NOEXIST and EXIST, BPF_F_LOCK (unsupported by LRU maps), an unknown bit,
// and all bits.
var invalidFlags = []engine.UpdateFlags{3, engine.UpdateLock, 8, ^engine.UpdateFlags(0)}

// Generate returns a random program, the same for the same seed and
// configuration. The configuration is mixed into the random source, so two
// configurations never share a program for the same seed, and a longer
// program of the same seed and configuration starts with the shorter one.
//
// Updates make about half the operations (flags any 40%, noexist 30%, exist
// 25%, invalid 5%), program lookups, which set reference bits, a fifth,
// syscall lookups a tenth and deletes a fifth. Keys come from a pool two to
// three times the map's capacity, so that evictions are frequent, with
// locality: recently used keys and a hot fifth of the pool are favoured, so
// that reference bits have something to protect.
func Generate(seed uint64, cfg GenConfig) Program {
	if cfg.Ops <= 0 {
		cfg.Ops = DefaultOps
	}
	if cfg.Type == 0 {
		cfg.Type = trace.LRUHash
	}
	if cfg.CPUs <= 0 {
		cfg.CPUs = 2
	}
	mix := uint64(cfg.Type)<<56 ^ uint64(cfg.CPUs)<<40 ^ uint64(cfg.Entries)
	if cfg.NoCommonLRU {
		mix ^= 1 << 63
	}
	rng := rand.New(rand.NewPCG(seed, mix*0x9e3779b97f4a7c15+0x2545f4914f6cdd1d))

	p := Program{Type: cfg.Type, Entries: cfg.Entries, NoCommonLRU: cfg.NoCommonLRU, CPUs: cfg.CPUs}
	if p.Entries == 0 {
		p.Entries = entryChoices[rng.IntN(len(entryChoices))]
	}
	capacity := int(p.Entries)
	if p.NoCommonLRU {
		capacity = (capacity + p.CPUs - 1) / p.CPUs * p.CPUs
	}
	pool := 2*capacity + 1 + rng.IntN(capacity+1)
	hot := max(1, pool/5)
	// Half the programs use small consecutive keys, which are easy to read;
	// the other half spread keys over the whole 64-bit space.
	spread := rng.IntN(2) == 1
	stride, offset := rng.Uint64()|1, rng.Uint64()
	key := func(i int) uint64 {
		if spread {
			return uint64(i)*stride + offset
		}
		return uint64(i) + 1
	}
	var recent [8]int
	nRecent := 0
	pick := func() uint64 {
		var i int
		switch r := rng.IntN(100); {
		case r < 35 && nRecent > 0:
			i = recent[rng.IntN(min(nRecent, len(recent)))]
		case r < 60:
			i = rng.IntN(hot)
		default:
			i = rng.IntN(pool)
		}
		recent[nRecent%len(recent)] = i
		nRecent++
		return key(i)
	}

	p.Ops = make([]engine.Op, cfg.Ops)
	for i := range p.Ops {
		op := engine.Op{Index: i, CPU: rng.IntN(p.CPUs)}
		switch r := rng.IntN(100); {
		case r < 50:
			op.Kind = engine.OpUpdate
			switch f := rng.IntN(100); {
			case f < 40:
				op.Flags = engine.UpdateAny
			case f < 70:
				op.Flags = engine.UpdateNoExist
			case f < 95:
				op.Flags = engine.UpdateExist
			default:
				op.Flags = invalidFlags[rng.IntN(len(invalidFlags))]
			}
			if rng.IntN(2) == 0 {
				op.Value = rng.Uint64N(1000)
			} else {
				op.Value = rng.Uint64()
			}
		case r < 70:
			op.Kind = engine.OpLookup
		case r < 80:
			op.Kind = engine.OpSysLookup
		default:
			op.Kind = engine.OpDelete
		}
		op.Key = pick()
		p.Ops[i] = op
	}
	return p
}
