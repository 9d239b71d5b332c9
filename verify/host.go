// SPDX-License-Identifier: GPL-2.0-only

package verify

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/lruviz/lruviz/engine"
	"golang.org/x/sys/unix"
)

// HostProfile returns the engine profile matching the running kernel, and
// the kernel's release string as uname reports it. Kernels from v6.16 on get
// engine.Profile618 (rqspinlock bucket locks, from v6.15, and the dynamic
// target_free refill batch, from v6.16); kernels before v6.15 get
// engine.Profile68. v6.15 has the rqspinlock but not yet target_free, a
// combination no profile models, so it is an error.
func HostProfile() (*engine.Profile, string, error) {
	release, err := hostRelease()
	if err != nil {
		return nil, "", err
	}
	prof, err := profileForRelease(release)
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

// profileForRelease picks the profile for a kernel release such as
// "6.18.44-fc-v657".
func profileForRelease(release string) (*engine.Profile, error) {
	major, minor, err := parseRelease(release)
	if err != nil {
		return nil, err
	}
	switch {
	case major > 6 || major == 6 && minor >= 16:
		return &engine.Profile618, nil
	case major == 6 && minor == 15:
		return nil, errors.New("verify: kernel " + release + " is not supported: v6.15 has the rqspinlock bucket lock " +
			"but not the v6.16 target_free, and no engine profile models that combination")
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
