// SPDX-License-Identifier: GPL-2.0-only

package engine

import (
	"github.com/lruviz/lruviz/trace"
)

// The functions of kernel/bpf/bpf_lru_list.c, one Go function each, same control flow.

func isLocalType(t uint8) bool { return t >= typeLocalFree }

// warn stands for the kernel's WARN_ON_ONCE: the kernel logs and returns; so do we, and the
// invariant checker then reports the inconsistency.
func (m *Map) warn(c *opCtx, what string) {
	m.warnings++
	m.note(c, warnings[what])
}

func (l *bpfLRUList) countInc(t uint8) {
	if t < typeFree {
		l.counts[t]++
	}
}

func (l *bpfLRUList) countDec(t uint8) {
	if t < typeFree {
		l.counts[t]--
	}
}

// setRotation moves next_inactive_rotation, telling the tracer.
func (m *Map) setRotation(c *opCtx, l *bpfLRUList, to int32) {
	l.nextInactiveRotation = to
	if c.traced() {
		e := int(to)
		if to == l.lists[typeInactive] {
			e = -1
		}
		m.emit(c, trace.RotationEvent(m.listSym(l.lists[typeInactive]), int32(e)))
	}
}

// nodeMoveToFree is __bpf_lru_node_move_to_free: a node on a global list goes to the head of a
// free list (global, a CPU's local one, or tmp_free). Its reference bit is left as it is; its
// pending_free flag is cleared (always 0 under v6.8).
func (m *Map) nodeMoveToFree(c *opCtx, l *bpfLRUList, n, freeList int32, tgtFreeType uint8) {
	nd := &m.nodes[n]
	if isLocalType(nd.typ) {
		m.warn(c, "__bpf_lru_node_move_to_free")
		return
	}
	// The rotation pointer must not point at a node leaving the inactive list.
	if l.nextInactiveRotation == n {
		m.setRotation(c, l, nd.prev)
	}
	l.countDec(nd.typ)
	nd.typ = tgtFreeType
	m.clearPendingFree(c, n)
	m.listMove(c, n, freeList)
}

// setPendingFree is WRITE_ONCE(node->pending_free, 1) where a push_free could not take lock:
// the node stays where it is, off the hash table, until something reclaims it.
func (m *Map) setPendingFree(c *opCtx, n int32, lock *spinlock) {
	m.nodes[n].pendingFree = 1
	if c.traced() {
		m.noteAt(c, noteLRUPushPending, lock.Ref(), m.listSym(m.nodes[n].on), n, 0)
	}
}

// clearPendingFree is WRITE_ONCE(node->pending_free, 0), telling when a marked node is reclaimed.
func (m *Map) clearPendingFree(c *opCtx, n int32) {
	if m.nodes[n].pendingFree == 0 {
		return
	}
	m.nodes[n].pendingFree = 0
	if c.traced() {
		if on := m.listSym(m.nodes[n].on); on != 0 {
			m.noteAt(c, noteReclaimedFrom, trace.LockRef{}, on, n, 0)
		} else {
			m.noteAt(c, noteReclaimed, trace.LockRef{}, 0, n, 0)
		}
	}
}

// nodeMoveIn is __bpf_lru_node_move_in: a node from a local list joins a global list.
func (m *Map) nodeMoveIn(c *opCtx, l *bpfLRUList, n int32, tgtType uint8) {
	nd := &m.nodes[n]
	if !isLocalType(nd.typ) || isLocalType(tgtType) {
		m.warn(c, "__bpf_lru_node_move_in")
		return
	}
	l.countInc(tgtType)
	nd.typ = tgtType
	nd.ref = 0
	// Reset pending_free only when moving to the free list.
	if tgtType == typeFree {
		m.clearPendingFree(c, n)
	}
	m.listMove(c, n, l.lists[tgtType])
}

// nodeMove is __bpf_lru_node_move: between global lists (or to the head of the same one). It
// always clears the reference bit.
func (m *Map) nodeMove(c *opCtx, l *bpfLRUList, n int32, tgtType uint8) {
	nd := &m.nodes[n]
	if isLocalType(nd.typ) || isLocalType(tgtType) {
		m.warn(c, "__bpf_lru_node_move")
		return
	}
	if nd.typ != tgtType {
		l.countDec(nd.typ)
		l.countInc(tgtType)
		nd.typ = tgtType
	}
	nd.ref = 0
	if l.nextInactiveRotation == n {
		m.setRotation(c, l, nd.prev)
	}
	m.listMove(c, n, l.lists[tgtType])
}

// scan is a list walk's read of node n, on the list headed by h, whose reference bit it found
// to be ref. The walk holds the list's lock, but bpf_lru_node_set_ref takes none: the scan event
// is a trace point between the read and the move that acts on it (and clears the bit), where a
// lookup on another CPU may set the bit and lose it.
func (m *Map) scan(c *opCtx, n, h int32, ref uint8) {
	if c.traced() {
		if e := m.slot(); e != nil {
			e.SetScan(n, m.elems[n].key, m.listSym(h), ref != 0)
			m.seal(c, e)
		} else {
			m.emitSlow(c, trace.ScanEvent(n, m.elems[n].key, m.listSym(h), ref != 0))
		}
	}
}

// rotateActive is __bpf_lru_list_rotate_active: from the tail, referenced nodes get a second
// chance at the head of the active list, the others are demoted to the inactive list.
func (m *Map) rotateActive(c *opCtx, l *bpfLRUList) {
	head := l.lists[typeActive]
	first := m.nodes[head].next
	i := 0
	for n := m.nodes[head].prev; n != head; {
		prev := m.nodes[n].prev
		ref := m.nodes[n].ref
		m.scan(c, n, head, ref)
		if ref != 0 {
			m.nodeMove(c, l, n, typeActive)
		} else {
			m.nodeMove(c, l, n, typeInactive)
		}
		i++
		if i == m.nrScans || n == first {
			break
		}
		n = prev
	}
}

// rotateInactive is __bpf_lru_list_rotate_inactive: a resumable circular scan of the inactive
// list, from next_inactive_rotation toward newer nodes, promoting referenced ones to active.
func (m *Map) rotateInactive(c *opCtx, l *bpfLRUList) {
	head := l.lists[typeInactive]
	if m.listEmpty(head) {
		return
	}
	last := m.nodes[l.nextInactiveRotation].next
	if last == head {
		last = m.nodes[last].next
	}
	cur := l.nextInactiveRotation
	next := head
	i := 0
	for i < m.nrScans {
		if cur == head {
			cur = m.nodes[cur].prev // skip the head without counting
			continue
		}
		next = m.nodes[cur].prev
		ref := m.nodes[cur].ref
		m.scan(c, cur, head, ref)
		if ref != 0 {
			m.nodeMove(c, l, cur, typeActive)
		}
		if cur == last {
			break
		}
		cur = next
		i++
	}
	m.setRotation(c, l, next)
}

// shrinkInactive is __bpf_lru_list_shrink_inactive: from the tail of the inactive list,
// referenced nodes go to active, unreferenced ones are evicted from the hash table into
// freeList, until tgtNshrink are freed or nr_scans nodes were looked at. A pending_free node
// (resilient LRU) is freed whatever its reference bit, without asking the hash table.
func (m *Map) shrinkInactive(c *opCtx, l *bpfLRUList, tgtNshrink int, freeList int32, tgtFreeType uint8) int {
	head := l.lists[typeInactive]
	nshrinked, i := 0, 0
	for n := m.nodes[head].prev; n != head; {
		prev := m.nodes[n].prev
		if m.nodes[n].ref != 0 && m.nodes[n].pendingFree == 0 {
			m.nodeMove(c, l, n, typeActive)
		} else if m.nodes[n].pendingFree != 0 || m.delFromHtab(c, n) {
			m.nodeMoveToFree(c, l, n, freeList, tgtFreeType)
			nshrinked++
			if nshrinked == tgtNshrink {
				break
			}
		}
		i++
		if i == m.nrScans {
			break
		}
		n = prev
	}
	return nshrinked
}

// wouldTryVictim reports whether shrinkInactive will call the eviction callback at least once,
// i.e. whether the step takes a bucket lock: an unreferenced node within nr_scans of the tail,
// before tgtNshrink pending_free nodes (freed without the callback) are reached.
func (m *Map) wouldTryVictim(l *bpfLRUList, tgtNshrink int) bool {
	head := l.lists[typeInactive]
	i, freed := 0, 0
	for n := m.nodes[head].prev; n != head && i < m.nrScans; n = m.nodes[n].prev {
		if m.nodes[n].pendingFree != 0 {
			if freed++; freed == tgtNshrink {
				return false
			}
		} else if m.nodes[n].ref == 0 {
			return true
		}
		i++
	}
	return false
}

// rotate is __bpf_lru_list_rotate.
func (m *Map) rotate(c *opCtx, l *bpfLRUList) {
	if l.counts[typeInactive] < l.counts[typeActive] {
		m.rotateActive(c, l)
	}
	m.rotateInactive(c, l)
}

// shrinkResult says how __bpf_lru_list_shrink ended, which decides the chart's next node.
type shrinkResult uint8

const (
	shrunkInactive shrinkResult = iota // shrink_inactive freed some
	forceFreed                         // the force shrink freed one
	forceFailed                        // nothing could be freed
	refillFailed                       // resilient LRU: the global lock failed, the refill did nothing
)

// shrink is __bpf_lru_list_shrink: shrink the inactive list; if that frees nothing, force-evict
// the first deletable node of the inactive list (or, if it is empty, the active list),
// ignoring reference bits.
func (m *Map) shrink(c *opCtx, l *bpfLRUList, tgtNshrink int, freeList int32, tgtFreeType uint8) (int, shrinkResult) {
	// Another CPU's lookup (or an interrupt) may set reference bits without a lock, which
	// decides whether this step evicts (takes bucket locks) at all.
	m.nodeArrive(c, nShrinkInactive, func() bool { return !m.wouldTryVictim(l, tgtNshrink) })
	nshrinked := m.shrinkInactive(c, l, tgtNshrink, freeList, tgtFreeType)
	m.node(c, nShrink)
	if nshrinked > 0 {
		return nshrinked, shrunkInactive
	}
	if !m.listEmpty(freeList) {
		m.note(c, noteM4Forced)
	}
	m.node(c, nShrink2)
	forceList := l.lists[typeInactive]
	if m.listEmpty(forceList) {
		forceList = l.lists[typeActive]
	}
	if m.prof.LRULock == LRUResilientSpinlock {
		// A push_free on another CPU may mark the tail pending_free without a lock: decide
		// whether the step asks the hash table (takes a bucket lock) as the CPU arrives.
		m.nodeArrive(c, nShrink3, func() bool {
			t := m.nodes[forceList].prev
			return t == forceList || m.nodes[t].pendingFree != 0
		})
	} else {
		m.nodeIdle(c, nShrink3, m.listEmpty(forceList))
	}
	for n := m.nodes[forceList].prev; n != forceList; {
		prev := m.nodes[n].prev
		if m.nodes[n].pendingFree != 0 || m.delFromHtab(c, n) {
			m.nodeMoveToFree(c, l, n, freeList, tgtFreeType)
			return 1, forceFreed
		}
		n = prev
	}
	return 0, forceFailed
}

// localListFlush is __local_list_flush: the CPU's pending nodes join the global lists, oldest
// first, referenced ones on active; the reference bits are cleared on the way. A pending_free
// node (resilient LRU) goes to the global free list.
func (m *Map) localListFlush(c *opCtx, l *bpfLRUList, loc *bpfLRULocallist) {
	head := loc.lists[localPendingIdx]
	for n := m.nodes[head].prev; n != head; {
		prev := m.nodes[n].prev
		ref, pendingFree := m.nodes[n].ref, m.nodes[n].pendingFree
		m.scan(c, n, head, ref)
		if pendingFree != 0 {
			m.nodeMoveIn(c, l, n, typeFree)
		} else if ref != 0 {
			m.nodeMoveIn(c, l, n, typeActive)
		} else {
			m.nodeMoveIn(c, l, n, typeInactive)
		}
		n = prev
	}
}

// listPopFreeToLocal is bpf_lru_list_pop_free_to_local, the common LRU's refill: under the
// global LRU lock, flush this CPU's pending list, rotate, move up to target_free nodes from the
// global free list to the local one, and shrink for the rest. The caller holds the local lock.
//
// Under the resilient LRU the global lock may fail (the refill then does nothing), and the
// harvest goes to the stack list tmp_free (each node at its head), which after the unlock is
// walked from its head, each node llist_add'ed at the head of free_llist: the batch is reversed
// twice, so the first node harvested is the first popped (v6.8 pops the last one harvested).
func (m *Map) listPopFreeToLocal(c *opCtx, loc *bpfLRULocallist) shrinkResult {
	l := &m.global
	m.node(c, nPopFreeToLocal)
	if m.lruLock(c, &l.lock, trace.SymClassLRU) != 0 {
		return refillFailed
	}
	m.localListFlush(c, l, loc)
	m.rotate(c, l)

	localFree := loc.lists[localFreeIdx]
	resilient := m.prof.LRULock == LRUResilientSpinlock
	if resilient {
		localFree = loc.tmpFree
	}
	freeHead := l.lists[typeFree]
	nfree := 0
	for n := m.nodes[freeHead].next; n != freeHead; {
		next := m.nodes[n].next
		m.scan(c, n, freeHead, m.nodes[n].ref)
		m.nodeMoveToFree(c, l, n, localFree, typeLocalFree)
		nfree++
		if nfree == m.targetFree {
			break
		}
		n = next
	}
	m.node(c, nMoveToFree)
	res := shrunkInactive // "able to free target_free": the chart's Y edge goes the same way
	if nfree < m.targetFree {
		_, res = m.shrink(c, l, m.targetFree-nfree, localFree, typeLocalFree)
	}
	m.unlock(c, &l.lock, trace.SymClassLRU)
	if resilient {
		// list_del from tmp_free, llist_add to free_llist, head first.
		tmp := loc.tmpFree
		for n := m.nodes[tmp].next; n != tmp; {
			next := m.nodes[n].next
			m.listMove(c, n, loc.lists[localFreeIdx])
			n = next
		}
	}
	return res
}

// localListAddPending is __local_list_add_pending: the popped node, now owned by cpu, waits on
// its pending list until the next refill flushes it.
func (m *Map) localListAddPending(c *opCtx, loc *bpfLRULocallist, cpu int, n int32, hash uint32) {
	m.elems[n].hash = hash
	nd := &m.nodes[n]
	nd.cpu = uint16(cpu)
	nd.typ = typeLocalPending
	m.clearPendingFree(c, n)
	nd.ref = 0
	m.listMove(c, n, loc.lists[localPendingIdx])
}

// localListPopFree is __local_list_pop_free: the head of the local free list (llist_del_first
// of free_llist under the resilient LRU), or none.
func (m *Map) localListPopFree(c *opCtx, loc *bpfLRULocallist) int32 {
	head := loc.lists[localFreeIdx]
	n := m.nodes[head].next
	if n == head {
		return nilIdx
	}
	m.listDelTraced(c, n)
	return n
}

// localListPopPending is __local_list_pop_pending: from the tail of a CPU's pending list, the
// first unreferenced node the hash table lets go of (or that is pending_free, resilient LRU);
// failing that, the first of any.
func (m *Map) localListPopPending(c *opCtx, loc *bpfLRULocallist) int32 {
	head := loc.lists[localPendingIdx]
	force := false
	for {
		for n := m.nodes[head].prev; n != head; n = m.nodes[n].prev {
			if (m.nodes[n].ref == 0 || force) && (m.nodes[n].pendingFree != 0 || m.delFromHtab(c, n)) {
				m.listDelTraced(c, n)
				return n
			}
		}
		if force {
			return nilIdx
		}
		force = true
	}
}

// popPendingAsksHtab reports whether localListPopPending will call the eviction callback (take
// a bucket lock) before it takes a pending_free node or gives up.
func (m *Map) popPendingAsksHtab(loc *bpfLRULocallist) bool {
	head := loc.lists[localPendingIdx]
	for _, force := range []bool{false, true} {
		for n := m.nodes[head].prev; n != head; n = m.nodes[n].prev {
			if m.nodes[n].ref == 0 || force {
				return m.nodes[n].pendingFree == 0
			}
		}
	}
	return false
}

// percpuPopFree is bpf_percpu_lru_pop_free: rotate this CPU's lists, shrink if its free list is
// empty, and take the head of the free list onto the inactive list. No stealing.
func (m *Map) percpuPopFree(c *opCtx, hash uint32) int32 {
	l := &m.percpu[c.cpu]
	if m.lruLock(c, &l.lock, trace.SymClassLRU) != 0 {
		m.gapAt(c, gapLRUFailedPop, l.lock.Ref(), 0, 0, 0)
		return nilIdx
	}
	m.note(c, noteM3)
	m.node(c, nPercpuRotate)
	m.rotate(c, l)
	free := l.lists[typeFree]
	m.node(c, nLocalFreelistCheck)
	via := nUseLocalNode
	if m.listEmpty(free) {
		m.node(c, nCommonLRUCheck) // N: per-CPU LRU
		_, res := m.shrink(c, l, percpuFreeTarget, free, typeFree)
		switch res {
		case shrunkInactive:
			via = nPopFreeToLocal2
		case forceFreed:
			m.node(c, nFreelistCheck2)
			via = nFreelistCheck4
		case forceFailed:
			m.node(c, nFreelistCheck2)
			via = 0
		}
	}
	n := int32(nilIdx)
	if !m.listEmpty(free) {
		m.node(c, via)
		n = m.nodes[free].next
		m.elems[n].hash = hash
		m.nodes[n].ref = 0
		m.nodeMove(c, l, n, typeInactive)
	}
	m.unlock(c, &l.lock, trace.SymClassLRU)
	if n == nilIdx {
		m.node(c, nCommonLRUCheck2) // N: no stealing in per-CPU LRU
	}
	return n
}

// commonPopFree is bpf_common_lru_pop_free: the local free list, else a refill, else steal
// round-robin from every CPU's local free and pending lists, starting at next_steal.
//
// Under the resilient LRU every lock may fail: the local lock at the start makes the pop
// return NULL; a failed refill leaves the local free list as it was (a node may have been
// pushed onto it lock-free meanwhile); a victim whose lock fails is skipped; and if the local
// lock fails after a steal, the stolen node goes onto this CPU's free list and the pop returns
// NULL.
func (m *Map) commonPopFree(c *opCtx, hash uint32) int32 {
	cpu := c.cpu
	loc := &m.local[cpu]
	if m.lruLock(c, &loc.lock, trace.SymClassLocal) != 0 {
		m.gapAt(c, gapLRUFailedPop, loc.lock.Ref(), 0, 0, 0)
		return nilIdx
	}
	m.node(c, nLocalFreelistCheck)
	n := m.localListPopFree(c, loc)
	if n != nilIdx {
		m.node(c, nUseLocalNode)
	} else {
		m.node(c, nCommonLRUCheck) // Y: common LRU
		res := m.listPopFreeToLocal(c, loc)
		switch res {
		case shrunkInactive:
			m.node(c, nPopFreeToLocal2)
		case forceFreed, forceFailed:
			m.node(c, nFreelistCheck2)
		}
		n = m.localListPopFree(c, loc)
		switch {
		case res == forceFreed:
			m.node(c, nFreelistCheck4)
		case res == forceFailed && n != nilIdx:
			m.gap(c, gapM4UseFree)
			m.node(c, nPopFreeToLocal2)
		case res == refillFailed && n != nilIdx:
			m.gap(c, gapRefillFailedUse)
			m.node(c, nUseLocalNode)
		case res == refillFailed:
			m.gap(c, gapRefillFailedSteal)
		}
	}
	if n != nilIdx {
		m.localListAddPending(c, loc, cpu, n, hash)
	}
	m.unlock(c, &loc.lock, trace.SymClassLocal)
	if n != nilIdx {
		return n
	}

	m.node(c, nCommonLRUCheck2) // Y: steal
	resilient := m.prof.LRULock == LRUResilientSpinlock
	first := loc.nextSteal
	steal := first
	for {
		sl := &m.local[steal]
		// The chart colours the round "remote CPU LRU lock"; the lock is this CPU's own (class
		// local) when the round comes to it.
		class := localClass(c, steal)
		if m.lruLock(c, &sl.lock, class) == 0 {
			m.node(c, nStealFree)
			n = m.localListPopFree(c, sl)
			if n == nilIdx {
				m.node(c, nStealPending)
				if resilient {
					// Reference bits and pending_free flags change without this lock.
					m.nodeArrive(c, nStealTryRemove, func() bool { return !m.popPendingAsksHtab(sl) })
				} else {
					m.nodeIdle(c, nStealTryRemove, m.listEmpty(sl.lists[localPendingIdx]))
				}
				n = m.localListPopPending(c, sl)
			}
			m.unlock(c, &sl.lock, class)
		} else {
			m.gapAt(c, gapStealSkips, sl.lock.Ref(), 0, 0, steal)
		}
		steal = (steal + 1) % m.ncpus // cpumask_next_wrap over the possible CPUs
		m.node(c, nStole)
		if n != nilIdx {
			break
		}
		m.node(c, nIteratedAll)
		if steal == first {
			break
		}
	}
	loc.nextSteal = steal
	if c.traced() {
		m.emit(c, trace.Event{Kind: trace.KindNextSteal, Value: uint64(steal)})
	}
	if n != nilIdx {
		m.node(c, nUseStolen)
		if m.lruLock(c, &loc.lock, trace.SymClassLocal) != 0 {
			// Not orphaned: onto this CPU's free_llist, lock-free, for its next pop.
			nd := &m.nodes[n]
			nd.typ = typeLocalFree
			nd.ref = 0
			m.clearPendingFree(c, n)
			m.listMove(c, n, loc.lists[localFreeIdx])
			m.gapAt(c, gapAfterSteal, loc.lock.Ref(), 0, 0, 0)
			return nilIdx
		}
		m.localListAddPending(c, loc, cpu, n, hash)
		m.unlock(c, &loc.lock, trace.SymClassLocal)
	}
	return n
}

// popFree is bpf_lru_pop_free.
func (m *Map) popFree(c *opCtx, hash uint32) int32 {
	if m.percpuLRU {
		return m.percpuPopFree(c, hash)
	}
	return m.commonPopFree(c, hash)
}

// commonPushFree is bpf_common_lru_push_free: a node still pending goes to its owner's local
// free list, any other to the global free list. Under the resilient LRU, if the owner's local
// lock fails the node stays on the pending list marked pending_free; otherwise it is unlinked
// under the lock and llist_add'ed to the owner's free_llist after the unlock.
func (m *Map) commonPushFree(c *opCtx, n int32) {
	nd := &m.nodes[n]
	if nd.typ == typeFree || nd.typ == typeLocalFree {
		m.warn(c, "bpf_common_lru_push_free")
		return
	}
	if nd.typ == typeLocalPending {
		owner := int(nd.cpu)
		loc := &m.local[owner]
		class := localClass(c, owner)
		m.node(c, nPushFreePending)
		if m.lruLock(c, &loc.lock, class) != 0 {
			m.setPendingFree(c, n, &loc.lock)
			return
		}
		// The owner may have flushed it to the global lists meanwhile.
		if nd.typ == typeLocalPending {
			nd.typ = typeLocalFree
			nd.ref = 0
			if m.prof.LRULock == LRUResilientSpinlock {
				m.listDelTraced(c, n)
				m.unlock(c, &loc.lock, class)
				m.listMove(c, n, loc.lists[localFreeIdx])
				return
			}
			m.listMove(c, n, loc.lists[localFreeIdx])
			m.unlock(c, &loc.lock, class)
			return
		}
		m.unlock(c, &loc.lock, class)
	}
	m.listPushFree(c, &m.global, n)
}

// listPushFree is bpf_lru_list_push_free.
func (m *Map) listPushFree(c *opCtx, l *bpfLRUList, n int32) {
	if isLocalType(m.nodes[n].typ) {
		m.warn(c, "bpf_lru_list_push_free")
		return
	}
	m.node(c, nPushFreeGlobal)
	if m.lruLock(c, &l.lock, trace.SymClassLRU) != 0 {
		m.setPendingFree(c, n, &l.lock)
		return
	}
	m.nodeMove(c, l, n, typeFree)
	m.unlock(c, &l.lock, trace.SymClassLRU)
}

// percpuPushFree is bpf_percpu_lru_push_free: back to the free list of the CPU that owns it.
func (m *Map) percpuPushFree(c *opCtx, n int32) {
	l := &m.percpu[m.nodes[n].cpu]
	m.node(c, nPushFreePercpu)
	if m.lruLock(c, &l.lock, trace.SymClassLRU) != 0 {
		m.setPendingFree(c, n, &l.lock)
		return
	}
	m.nodeMove(c, l, n, typeFree)
	m.unlock(c, &l.lock, trace.SymClassLRU)
}

// pushFree is bpf_lru_push_free.
func (m *Map) pushFree(c *opCtx, n int32) {
	if m.percpuLRU {
		m.percpuPushFree(c, n)
		return
	}
	m.commonPushFree(c, n)
}

// setRef is bpf_lru_node_set_ref: lock-free, only writes when the bit is clear.
func (m *Map) setRef(c *opCtx, n int32) {
	if m.nodes[n].ref == 0 {
		m.nodes[n].ref = 1
	}
	if c.traced() {
		if e := m.slot(); e != nil {
			*e = trace.Event{Kind: trace.KindRef, Elem: n, Key: m.elems[n].key}
			m.seal(c, e)
		} else {
			m.emitSlow(c, trace.Event{Kind: trace.KindRef, Elem: n, Key: m.elems[n].key})
		}
	}
}
