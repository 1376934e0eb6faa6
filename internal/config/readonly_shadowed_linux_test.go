package config

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestShadowedReadOnlyMountDoesNotExempt: a read-only tmpfs at view/conf, then a read-only bind
// of shared (0755, holding conf of mode 0777 on a writable mount) over view. view/conf now shows
// shared/conf; the tmpfs is hidden but still listed in mountinfo with the longer mount point. The
// directory the file lies in is shared/conf, which anyone may write through shared/, so Load of
// view/conf/broker.yaml is refused. It needs root, and says it skipped otherwise.
// Guards against: readonly_linux.go taking the listed mount with the longest mount point for
// the one a directory lies on (the kernel's mount id names it).
func TestShadowedReadOnlyMountDoesNotExempt(t *testing.T) {
	base := t.TempDir()
	shared := filepath.Join(base, "shared")
	view := filepath.Join(base, "view")
	for _, d := range []string{shared, view, filepath.Join(view, "conf")} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	path := writeUnder(t, shared, 0o755) // shared/conf/broker.yaml
	if err := os.Chmod(filepath.Join(shared, "conf"), 0o777); err != nil {
		t.Fatal(err)
	}
	hidden := filepath.Join(view, "conf")
	mountTmpfs(t, hidden, syscall.MS_RDONLY, "size=64k")
	if err := syscall.Mount(shared, view, "", syscall.MS_BIND, ""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Unmount(view, syscall.MNT_DETACH) })
	if err := syscall.Mount("", view, "", syscall.MS_REMOUNT|syscall.MS_BIND|syscall.MS_RDONLY, ""); err != nil {
		t.Fatal(err)
	}
	viewed := filepath.Join(view, "conf", "broker.yaml")
	// Anyone may replace the file through shared/conf (0777, writable mount):
	if err := os.Rename(path, path+".gone"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("issuer: https://evil.example.com\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(viewed)
	if err == nil {
		t.Fatalf("Load(%s) = issuer %q, nil: its directory is %s/conf (0777, writable mount), just replaced there; "+
			"the read-only tmpfs at %s that exempted it is shadowed by the bind over %s; want it refused",
			viewed, cfg.Issuer, shared, hidden, view)
	}
}
