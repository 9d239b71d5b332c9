// SPDX-License-Identifier: GPL-2.0-only

package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/lruviz/lruviz/web"
)

// nobody is the user and group an unprivileged lruviz runs as when the test runs as root.
const nobody = 65534

// unprivileged prepares to run the command (this test binary, LRUVIZ_RUN_MAIN=1, as
// TestNoGraphvizCache does) without bpf() or reading kernel memory: as root it copies the binary
// into a directory every user can read and returns a runner that drops to nobody; as another
// user without bpf() it runs as that user. As another user whose bpf() works it skips: a process
// that is not root cannot drop to a user without those privileges. The runner returns stdout,
// stderr and the exit status; dir is a directory the command's user can read, for its inputs.
func unprivileged(t *testing.T) (runAs func(args ...string) (string, string, int), dir string) {
	t.Helper()
	root := os.Geteuid() == 0
	if !root {
		if err := web.KernelAvailable(); err == nil {
			t.Skipf("running as uid %d, for whom bpf() and reading kernel memory work, and only root can "+
				"drop to a user without them; run this test as root or as a user without bpf()", os.Geteuid())
		}
	}
	dir = t.TempDir()
	// t.TempDir's parent is created 0700: open both to the unprivileged user.
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "lruviz.test")
	copyFile(t, self, bin, 0o755)
	// A home and cache the command's user can write (go-graphviz's compiled module goes there).
	home := filepath.Join(dir, "home")
	if err := os.Mkdir(home, 0o755); err != nil {
		t.Fatal(err)
	}
	if root {
		if err := os.Chown(home, nobody, nobody); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithDeadline(context.Background(), patience(t))
	t.Cleanup(cancel)
	runAs = func(args ...string) (string, string, int) {
		t.Helper()
		cmd := exec.CommandContext(ctx, bin, append([]string{"-test.run=^$", "--"}, args...)...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "LRUVIZ_RUN_MAIN=1", "HOME="+home, "XDG_CACHE_HOME="+filepath.Join(home, ".cache"))
		if root {
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
		}
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		var ee *exec.ExitError
		switch {
		case ctx.Err() != nil:
			t.Fatalf("lruviz %s: still running when the test's patience ran out (it should have exited)\n%s\n%s",
				strings.Join(args, " "), out.String(), errb.String())
		case errors.As(err, &ee):
			return out.String(), errb.String(), ee.ExitCode()
		case err != nil:
			t.Fatalf("lruviz %s: %v", strings.Join(args, " "), err)
		}
		return out.String(), errb.String(), 0
	}
	return runAs, dir
}

func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	src, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestKernelUnavailable: without bpf() and reading kernel memory (as nobody, when the test
// runs as root), each command that needs the kernel exits with status 3 and says what it
// needs, before doing anything else: verify-kernel --deep runs no program, serve --kernel
// does not listen, export --step N --kernel writes no file.
func TestKernelUnavailable(t *testing.T) {
	runAs, dir := unprivileged(t)
	// Checks that the unprivileged user can run the command at all (status 0), so that the
	// statuses 3 below are the kernel's refusal and not an unreadable binary or file.
	if out, errs, code := runAs("scenarios"); code != 0 || !strings.Contains(out, "fast-path") {
		t.Fatalf("lruviz scenarios as the unprivileged user: exit %d\n%s\n%s", code, out, errs)
	}
	script := filepath.Join(dir, "k.lru")
	if err := os.WriteFile(script, []byte("map lru_hash entries=4 cpus=2 kernel=6.8\ncpu 0 update 1 1\ncpu 0 update 2 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	svg := filepath.Join(dir, "home", "k.svg")
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"verify-kernel", "--deep", "--seeds", "1", "--ops", "5"},
			[]string{"lruviz verify-kernel: bpf() unavailable", "needs root"}},
		{[]string{"serve", "--kernel", "--addr", "127.0.0.1:0"},
			[]string{"lruviz serve: " + kernelNeeds + ": ", "operation not permitted"}},
		{[]string{"export", script, "-o", svg, "--step", "20", "--kernel"},
			[]string{"lruviz export: " + kernelNeeds + ": ", "bpf() unavailable"}},
	} {
		out, errs, code := runAs(c.args...)
		name := strings.Join(c.args, " ")
		if code != 3 {
			t.Errorf("lruviz %s: exit %d, want 3\nstdout: %s\nstderr: %s", name, code, out, errs)
		}
		for _, w := range c.want {
			if !strings.Contains(errs, w) {
				t.Errorf("lruviz %s: stderr lacks %q:\n%s", name, w, errs)
			}
		}
		// Nothing was done: no program ran, no URL was printed, no file was written.
		if out != "" {
			t.Errorf("lruviz %s: printed %q before refusing", name, out)
		}
		t.Logf("lruviz %s (uid %d): exit %d: %s", name, uidOf(os.Geteuid()), code, strings.TrimSpace(errs))
	}
	if _, err := os.Stat(svg); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("export --kernel left %s behind: %v", svg, err)
	}
}

// uidOf is the uid the command runs as when the test runs as uid.
func uidOf(uid int) int {
	if uid == 0 {
		return nobody
	}
	return uid
}
