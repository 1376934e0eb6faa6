package config

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestReadOnlyMountIsNotReplaceable: a directory open to all on a read-only mount (as the chart
// mounts the volume its configuration is rendered into) cannot be written whatever its mode, so
// a file below it loads; the same directory mounted writable is refused. It mounts a tmpfs, so it
// needs root, and says it skipped otherwise.
func TestReadOnlyMountIsNotReplaceable(t *testing.T) {
	run := filepath.Join(t.TempDir(), "run")
	if err := os.Mkdir(run, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", run, "tmpfs", 0, "size=64k,mode=0777"); err != nil {
		if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EACCES) {
			t.Skipf("skipped: mounting a tmpfs needs root (%v)", err)
		}
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Unmount(run, syscall.MNT_DETACH) })
	path := writeUnder(t, run, 0o777)
	if _, err := Load(path); err == nil {
		t.Fatalf("Load(%s) under a writable mount open to all = nil, want it refused", path)
	}
	if err := syscall.Mount("", run, "", syscall.MS_REMOUNT|syscall.MS_RDONLY, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path); err != nil {
		t.Errorf("Load(%s) under a read-only mount = %v, want it loaded", path, err)
	}
}
