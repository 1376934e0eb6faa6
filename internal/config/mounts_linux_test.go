package config

import (
	"errors"
	"syscall"
	"testing"
)

// mountTmpfs mounts a tmpfs with flags and options on dir, an existing directory, until the test
// ends. Mounting needs root: without it the test says it skipped.
func mountTmpfs(t *testing.T, dir string, flags uintptr, options string) {
	t.Helper()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", flags, options); err != nil {
		if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EACCES) {
			t.Skipf("skipped: mounting a tmpfs needs root (%v)", err)
		}
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Unmount(dir, syscall.MNT_DETACH) })
}
