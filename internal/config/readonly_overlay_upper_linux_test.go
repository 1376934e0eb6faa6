package config

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestReadOnlyMountOfAnOverlaysUpperDirIsRefused: up (0777) lies on a tmpfs whose only listed
// mount is read-only, but a writable overlay this process sees uses up as its upper layer:
// whatever anyone writes through the overlay lands in up. That is a writable view of the
// directory, and up/broker.yaml is replaced through it, so Load refuses it. It needs root and
// overlayfs, and says it skipped otherwise.
// Guards against: readonly_linux.go:readOnlyMount exempting a directory an overlay writes into
func TestReadOnlyMountOfAnOverlaysUpperDirIsRefused(t *testing.T) {
	base := t.TempDir()
	disk := filepath.Join(base, "disk")
	lower := filepath.Join(base, "lower")
	merged := filepath.Join(base, "merged")
	for _, d := range []string{disk, lower, merged} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	mountTmpfs(t, disk, 0, "size=256k")
	up, work := filepath.Join(disk, "up"), filepath.Join(disk, "work")
	for _, d := range []string{up, work} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(up, 0o777); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(up, "broker.yaml")
	if err := os.WriteFile(path, []byte("issuer: https://broker.example.com\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("overlay", merged, "overlay", 0, "lowerdir="+lower+",upperdir="+up+",workdir="+work); err != nil {
		if errors.Is(err, syscall.ENODEV) || errors.Is(err, syscall.EINVAL) {
			t.Skipf("skipped: overlayfs (%v)", err)
		}
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Unmount(merged, syscall.MNT_DETACH) })
	if err := syscall.Mount("", disk, "", syscall.MS_REMOUNT|syscall.MS_BIND|syscall.MS_RDONLY, ""); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(disk, "x"), nil, 0o644); err == nil {
		t.Fatal("set-up: disk is still writable")
	}
	// Anyone may do this through merged/ (0777, a writable overlay), and it lands in up/:
	if err := os.Rename(filepath.Join(merged, "broker.yaml"), filepath.Join(merged, "gone.yaml")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(merged, "broker.yaml"), []byte("issuer: https://evil.example.com\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path)
	if err == nil {
		t.Fatalf("Load(%s) = issuer %q, nil: %s (0777) is the upper layer of the writable overlay at %s, where it was just replaced; want it refused",
			path, cfg.Issuer, up, merged)
	}
}

// TestOverlayUpperFromMountInfo: an overlay's upper layer is read from its super options, with
// mountinfo's escapes undone; a mount with no upperdir has none.
// Guards against: readonly_linux.go:readMountInfo leaving an overlay's upperdir unread
func TestOverlayUpperFromMountInfo(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mountinfo")
	lines := "36 35 0:31 / /merged rw,relatime shared:1 - overlay overlay rw,lowerdir=/l,upperdir=/disk/my\\040up,workdir=/disk/work\n" +
		"37 35 0:32 / /view ro,relatime - overlay overlay ro,lowerdir=/a:/b\n"
	if err := os.WriteFile(path, []byte(lines), 0o644); err != nil {
		t.Fatal(err)
	}
	mounts, err := readMountInfo(path)
	if err != nil || len(mounts) != 2 {
		t.Fatalf("readMountInfo = %d mounts, %v", len(mounts), err)
	}
	if mounts[0].upper != "/disk/my up" || mounts[1].upper != "" {
		t.Errorf("uppers %q and %q, want %q and none", mounts[0].upper, mounts[1].upper, "/disk/my up")
	}
}
