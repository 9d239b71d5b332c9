// SPDX-License-Identifier: GPL-2.0-only

package kernelmap

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

// PossibleCPUs returns the number of possible CPUs, which is what the
// kernel's num_possible_cpus() returns and what sizes per-CPU values and
// per-CPU LRU lists.
func PossibleCPUs() (int, error) {
	n, err := ebpf.PossibleCPU()
	if err != nil {
		return 0, fmt.Errorf("kernelmap: possible CPUs: %w", err)
	}
	return n, nil
}

// OnlineCPUs returns, in ascending order, the CPUs an operation can be pinned
// to: the online CPUs that the process's affinity mask allows.
func OnlineCPUs() ([]int, error) {
	raw, err := os.ReadFile("/sys/devices/system/cpu/online")
	if err != nil {
		return nil, fmt.Errorf("kernelmap: online CPUs: %w", err)
	}
	online, err := parseCPUList(strings.TrimSpace(string(raw)))
	if err != nil {
		return nil, fmt.Errorf("kernelmap: online CPUs: %w", err)
	}
	if startErr != nil {
		return nil, fmt.Errorf("kernelmap: sched_getaffinity: %w", startErr)
	}
	cpus := online[:0]
	for _, cpu := range online {
		if startAffinity.IsSet(cpu) {
			cpus = append(cpus, cpu)
		}
	}
	return cpus, nil
}

// startAffinity is the affinity mask the process started with (cpusets,
// taskset). It is read during package initialization, which runs on the main
// thread before any worker exists: later, any thread, the main thread
// included, may be a worker pinned to a single CPU, so no thread's current
// mask can stand for the process.
var startAffinity, startErr = func() (unix.CPUSet, error) {
	var set unix.CPUSet
	err := unix.SchedGetaffinity(0, &set)
	return set, err
}()

// parseCPUList parses the kernel's CPU list format, e.g. "0-3,5,7-8".
func parseCPUList(s string) ([]int, error) {
	var cpus []int
	if s == "" {
		return cpus, nil
	}
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		first, err := strconv.Atoi(lo)
		if err != nil {
			return nil, fmt.Errorf("bad CPU list %q", s)
		}
		last := first
		if isRange {
			if last, err = strconv.Atoi(hi); err != nil || last < first {
				return nil, fmt.Errorf("bad CPU list %q", s)
			}
		}
		for cpu := first; cpu <= last; cpu++ {
			cpus = append(cpus, cpu)
		}
	}
	return cpus, nil
}

// worker owns one OS thread that is locked to its goroutine and pinned to a
// single CPU. Keeping the thread pinned for the map's lifetime avoids a
// migration per operation, which is what makes thousands of pinned
// operations per second possible.
//
// Requests are handed over one at a time: mu serializes callers, the caller
// stores its request in req and signals start, the worker runs it and
// signals done. This needs no allocation per operation.
type worker struct {
	cpu   int
	mu    sync.Mutex
	start chan struct{}
	done  chan struct{}
	req   request

	// Scratch buffers live on the heap and are reused by every request,
	// since only the worker thread touches them.
	key    *uint64
	values []uint64 // one slot per possible CPU (LRU_PERCPU_HASH) or one
	pktIn  []byte
	pktOut []byte
}

// newWorker starts a worker pinned to cpu and waits until pinning has
// either succeeded or failed.
func newWorker(m *Map, cpu int) (*worker, error) {
	w := &worker{
		cpu:    cpu,
		start:  make(chan struct{}),
		done:   make(chan struct{}),
		key:    new(uint64),
		values: make([]uint64, m.valueSlots),
		pktIn:  make([]byte, pktLen),
		pktOut: make([]byte, pktLen),
	}
	ready := make(chan error)
	go w.loop(m, ready)
	if err := <-ready; err != nil {
		return nil, err
	}
	return w, nil
}

// loop is the worker goroutine. It never calls runtime.UnlockOSThread: when
// it returns while still locked, the runtime terminates the thread, so a
// thread with a narrowed affinity mask never returns to the scheduler's pool.
// (Threads the runtime creates later are cloned from a clean template thread
// because this one is locked, so they do not inherit the mask either.)
func (w *worker) loop(m *Map, ready chan<- error) {
	runtime.LockOSThread()
	var set unix.CPUSet
	set.Set(w.cpu)
	if err := unix.SchedSetaffinity(0, &set); err != nil {
		ready <- fmt.Errorf("kernelmap: pin thread to CPU %d: %w", w.cpu, err)
		return
	}
	if err := w.checkCPU(); err != nil {
		ready <- err
		return
	}
	ready <- nil
	for range w.start {
		if err := w.checkCPU(); err != nil {
			w.req.err = err
		} else {
			m.execute(w, &w.req)
		}
		w.done <- struct{}{}
	}
}

// checkCPU verifies with getcpu that the thread runs on its CPU. With a
// one-CPU affinity mask this can only fail if someone changed the mask or the
// CPU went offline, but it is cheap and turns silent corruption of a
// comparison into an error.
func (w *worker) checkCPU() error {
	cpu, err := getcpu()
	if err != nil {
		return fmt.Errorf("kernelmap: getcpu: %w", err)
	}
	if cpu != w.cpu {
		return fmt.Errorf("kernelmap: thread pinned to CPU %d runs on CPU %d", w.cpu, cpu)
	}
	return nil
}

// do runs req on the worker's CPU and returns the completed request.
func (w *worker) do(req request) request {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.req = req
	w.start <- struct{}{}
	<-w.done
	return w.req
}

// stop ends the worker goroutine (and with it the pinned thread).
func (w *worker) stop() {
	w.mu.Lock()
	defer w.mu.Unlock()
	close(w.start)
}
