package config

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestReadOnlyBindOfWritableDirectoryIsRefused: a read-only bind mount of a directory anyone may
// write leaves that directory writable through its own path: anyone renames conf away there and
// puts their own conf/broker.yaml in its place, which broker would read through the read-only
// mount. It needs root to mount, and says it skipped otherwise.
// Guards against: readonly_linux.go readOnlyMount judging the mount alone (statfs ST_RDONLY).
func TestReadOnlyBindOfWritableDirectoryIsRefused(t *testing.T) {
	base := t.TempDir()
	shared := filepath.Join(base, "shared") // writable by anyone, on a writable mount
	view := filepath.Join(base, "view")     // the same directory, mounted read-only
	for _, d := range []string{shared, view} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	path := writeUnder(t, shared, 0o777)
	if err := syscall.Mount(shared, view, "", syscall.MS_BIND, ""); err != nil {
		if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EACCES) {
			t.Skipf("skipped: a bind mount needs root (%v)", err)
		}
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Unmount(view, syscall.MNT_DETACH) })
	if err := syscall.Mount("", view, "", syscall.MS_REMOUNT|syscall.MS_BIND|syscall.MS_RDONLY, ""); err != nil {
		t.Fatal(err)
	}
	_ = path
	// Anyone may do this through shared/, which is 0777 on a writable mount:
	if err := os.Rename(filepath.Join(shared, "conf"), filepath.Join(shared, "gone")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(shared, "conf"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(shared, "conf", "broker.yaml"), []byte("issuer: https://evil.example.com\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	viewed := filepath.Join(view, "conf", "broker.yaml")
	cfg, err := Load(viewed)
	if err == nil {
		t.Fatalf("Load(%s) = issuer %q, nil: its directory is %s (mode 0777, writable mount) seen read-only, and was just replaced through it; want it refused",
			viewed, cfg.Issuer, shared)
	}
}
