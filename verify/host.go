// SPDX-License-Identifier: GPL-2.0-only

package verify

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/lruviz/lruviz/engine"
	"github.com/lruviz/lruviz/kernelmap"
	"golang.org/x/sys/unix"
)

// HostProfile returns the engine profile matching the running kernel, and the kernel's
// release string as uname reports it. The release picks the generation (see
// profileForRelease); the kernel's BTF tells whether its LRU list locks are rqspinlock_t
// (a kernel with "bpf: Fix NMI/tracepoint re-entry deadlock on lru locks"), which changes
// the local free list into a lock-free llist and so the order of its nodes.
func HostProfile() (*engine.Profile, string, error) {
	release, err := hostRelease()
	if err != nil {
		return nil, "", err
	}
	lock, err := kernelmap.LRULockType()
	if err != nil {
		lock = "" // no BTF: the release alone decides
	}
	prof, err := profileForRelease(release, lock)
	return prof, release, err
}

// hostRelease returns uname's release string.
func hostRelease() (string, error) {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return "", fmt.Errorf("verify: uname: %w", err)
	}
	return unix.ByteSliceToString(u.Release[:]), nil
}

// profileForRelease picks the profile for a kernel release such as "6.18.44-fc-v669" whose
// LRU list lock has BTF type lruLock ("" when unknown). From v6.16 (rqspinlock bucket locks
// from v6.15, the target_free refill batch from v6.16): engine.Profile618, or
// engine.Profile618LRURqspinlock when the LRU locks are rqspinlock_t. Before v6.15:
// engine.Profile68. v6.15 has the bucket rqspinlock without target_free, a combination no
// profile models, so it is an error; so is an rqspinlock LRU lock before v6.16.
func profileForRelease(release, lruLock string) (*engine.Profile, error) {
	major, minor, err := parseRelease(release)
	if err != nil {
		return nil, err
	}
	switch {
	case major > 6 || major == 6 && minor >= 16:
		if lruLock == "rqspinlock_t" {
			return &engine.Profile618LRURqspinlock, nil
		}
		return &engine.Profile618, nil
	case major == 6 && minor == 15:
		return nil, errors.New("verify: kernel " + release + " is not supported: v6.15 has the rqspinlock bucket lock " +
			"but not the v6.16 target_free, and no engine profile models that combination")
	case lruLock == "rqspinlock_t":
		return nil, errors.New("verify: kernel " + release + " is not supported: its LRU list locks are rqspinlock_t, " +
			"which no engine profile models before v6.16")
	}
	return &engine.Profile68, nil
}

// parseRelease extracts the major and minor version from a release string.
func parseRelease(release string) (major, minor int, err error) {
	fields := strings.SplitN(release, ".", 3)
	if len(fields) < 2 {
		return 0, 0, fmt.Errorf("verify: cannot parse kernel release %q", release)
	}
	major, err1 := strconv.Atoi(fields[0])
	minorText := fields[1]
	if i := strings.IndexFunc(minorText, func(r rune) bool { return r < '0' || r > '9' }); i >= 0 {
		minorText = minorText[:i]
	}
	minor, err2 := strconv.Atoi(minorText)
	if err1 != nil || err2 != nil {
		return 0, 0, fmt.Errorf("verify: cannot parse kernel release %q", release)
	}
	return major, minor, nil
}
