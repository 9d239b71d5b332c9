// SPDX-License-Identifier: GPL-2.0-only

package verify

import "github.com/lruviz/lruviz/engine"

// Shrink minimises p's operations while differs keeps reporting a
// difference, and returns the smallest program found. The map (type,
// entries, flags, CPUs) is kept. differs must run the candidate from a fresh
// map; it is called with p's operations renumbered, and p itself is assumed
// to differ.
//
// The search is delta debugging (Zeller's ddmin): remove chunks of the
// operation list, halving the chunk size whenever no chunk can go, down to
// single operations, and repeat until no single operation can be removed.
// The result is 1-minimal: removing any one operation makes the difference
// disappear. Since a difference at operation i does not depend on later
// operations, the result also differs at its last operation.
func Shrink(p Program, differs func(Program) bool) Program {
	ops := p.withOps(p.Ops).Ops
	try := func(cand []engine.Op) bool {
		return differs(p.withOps(cand))
	}
	// Cut the tail first: in one pass over growing prefixes this finds the
	// shortest differing prefix with a binary search, which is much cheaper
	// than letting ddmin discover that everything after the first
	// difference is irrelevant.
	lo, hi := 0, len(ops) // ops[:hi] differs; ops[:lo] is not known to
	for lo+1 < hi {
		mid := (lo + hi) / 2
		if try(ops[:mid]) {
			hi = mid
		} else {
			lo = mid
		}
	}
	ops = ops[:hi]

	n := 2
	for len(ops) >= 2 {
		n = min(n, len(ops))
		chunk := (len(ops) + n - 1) / n
		removed := false
		for start := 0; start < len(ops); start += chunk {
			end := min(start+chunk, len(ops))
			cand := make([]engine.Op, 0, len(ops)-(end-start))
			cand = append(cand, ops[:start]...)
			cand = append(cand, ops[end:]...)
			if try(cand) {
				ops = cand
				removed = true
				// Retry at the same position, now holding the next chunk.
				start -= chunk
				if len(ops) < 2 {
					break
				}
			}
		}
		switch {
		case removed:
			n = max(n-1, 2)
		case chunk == 1:
			// No single operation can go: 1-minimal.
			return p.withOps(ops)
		default:
			n = min(2*n, len(ops))
		}
	}
	return p.withOps(ops)
}
