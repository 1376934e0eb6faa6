package config

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestReadOnlyOverlayOfWritableLowerDirIsRefused: a read-only overlay whose layer is shared
// (conf in it of mode 0777, on a writable mount) shows shared's files: anyone replaces
// shared/conf/broker.yaml and broker would read theirs through the overlay. The overlay is its
// own device in mountinfo, so no writable mount shows it; it is refused as a file system whose
// files are not its own. It needs root and overlayfs, and says it skipped otherwise.
// Guards against: readonly_linux.go exempting a read-only mount of any file system type.
func TestReadOnlyOverlayOfWritableLowerDirIsRefused(t *testing.T) {
	base := t.TempDir()
	shared := filepath.Join(base, "shared")
	view := filepath.Join(base, "view")
	empty := filepath.Join(base, "empty") // a second layer: an overlay with no upper layer needs two
	for _, d := range []string{shared, view, empty} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	path := writeUnder(t, shared, 0o755) // shared/conf/broker.yaml
	if err := os.Chmod(filepath.Join(shared, "conf"), 0o777); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("overlay", view, "overlay", syscall.MS_RDONLY, "lowerdir="+shared+":"+empty); err != nil {
		if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EACCES) || errors.Is(err, syscall.ENODEV) {
			t.Skipf("skipped: needs root and overlayfs (%v)", err)
		}
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Unmount(view, syscall.MNT_DETACH) })
	// Anyone may do this through shared/conf (0777, writable mount):
	if err := os.Rename(path, path+".gone"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("issuer: https://evil.example.com\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	viewed := filepath.Join(view, "conf", "broker.yaml")
	if cfg, err := Load(viewed); err == nil {
		t.Fatalf("Load(%s) = issuer %q, nil: its directory is the overlay's view of %s/conf (0777, writable mount), just replaced there; want it refused",
			viewed, cfg.Issuer, shared)
	}
}
