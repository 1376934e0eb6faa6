package config

import (
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
	mountTmpfs(t, run, 0, "size=64k,mode=0777")
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
