// SPDX-License-Identifier: GPL-2.0-only

// Package verify is lruviz's differential tester: it runs the same sequence
// of map operations on the running kernel's real BPF LRU hash map (package
// kernelmap) and on the simulator (package engine), and reports the first
// operation where their results or key sets differ.
//
// Programs are either generated at random from a seed (Generate) or taken
// from sequential scenario files (ProgramFromScenario). Both sides run a
// program from a freshly created map, one operation at a time, each pinned
// to its CPU. After every operation the result and the sorted key set are
// recorded in a Trace; Compare finds the first difference. A differing
// program is minimised by delta debugging (Shrink), re-running both sides
// from a fresh map at every step, and rendered as a scenario file whose
// expectations are the kernel's results (Scenario), so that `lruviz run`
// reproduces the failure on the simulator alone.
//
// With Options.Deep the comparison goes inside: before the first operation
// and after every one, the kernel's own LRU lists, read from kernel memory
// (kernelmap.Snapshot), are compared element by element with the engine's
// (engine.Internals): which element is on which list in which order, the
// key of every element in the table, reference bits, each node's cpu, type
// and pending_free, the counts, next_inactive_rotation, next_steal,
// target_free and nr_scans. Both sides number elements by their place in the
// preallocated array; the fresh map's state checks that they agree.
//
// The engine runs with the profile of the host's kernel (HostProfile), or
// the one Options.Profile names, and the host's number of possible CPUs,
// since both shape the LRU: the CPU count sizes the per-CPU lists and, from
// v6.16, the common LRU's refill batch target_free.
package verify
