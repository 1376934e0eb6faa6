package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestReadOnlyMountOfAnOverlaysUpperDirIsRefused: the configuration's directory (0777) lies on a
// tmpfs whose only listed mount is read-only, but a writable overlay this process sees has it in
// its upper layer: whatever anyone writes through the overlay lands there. That is a writable
// view of the directory, and broker.yaml is replaced through it, so Load refuses it: read from
// the upper layer itself, from a read-only bind of a directory within it, and when the upper
// layer's name holds a comma (which mountinfo shows escaped twice). It needs root and overlayfs,
// and says it skipped otherwise.
// Guards against: readonly_linux.go:readOnlyMount exempting a directory an overlay writes into;
// overlayUpperHolds climbing only the path it reads through; optionValue keeping overlayfs's
// backslashes
func TestReadOnlyMountOfAnOverlaysUpperDirIsRefused(t *testing.T) {
	for _, tc := range []struct {
		name, upper, sub string
		bind             bool // the configuration is read through a read-only bind of upper/sub
	}{
		{name: "the upper layer", upper: "up"},
		{name: "a read-only bind of a directory in it", upper: "up", sub: "sub", bind: true},
		{name: "an upper layer named with a comma", upper: "up,x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := t.TempDir()
			disk, lower, merged, view := filepath.Join(base, "disk"), filepath.Join(base, "lower"), filepath.Join(base, "merged"), filepath.Join(base, "view")
			for _, d := range []string{disk, lower, merged, view} {
				if err := os.Mkdir(d, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			mountTmpfs(t, disk, 0, "size=256k")
			up, work := filepath.Join(disk, tc.upper), filepath.Join(disk, "work")
			conf := filepath.Join(up, tc.sub)
			for _, d := range []string{up, work, conf} {
				if err := os.MkdirAll(d, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.Chmod(conf, 0o777); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(conf, "broker.yaml")
			if err := os.WriteFile(path, []byte("issuer: https://broker.example.com\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			upperOption := strings.ReplaceAll(up, ",", `\,`) // overlayfs's own escape
			if err := syscall.Mount("overlay", merged, "overlay", 0, "lowerdir="+lower+",upperdir="+upperOption+",workdir="+work); err != nil {
				if errors.Is(err, syscall.ENODEV) || errors.Is(err, syscall.EINVAL) {
					t.Skipf("skipped: overlayfs (%v)", err)
				}
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = syscall.Unmount(merged, syscall.MNT_DETACH) })
			if tc.bind {
				bindReadOnly(t, conf, view)
				path = filepath.Join(view, "broker.yaml")
			}
			if err := syscall.Mount("", disk, "", syscall.MS_REMOUNT|syscall.MS_BIND|syscall.MS_RDONLY, ""); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(disk, "x"), nil, 0o644); err == nil {
				t.Fatal("set-up: disk is still writable")
			}
			// Anyone may do this through merged/ (0777, a writable overlay), and it lands in up/:
			through := filepath.Join(merged, tc.sub)
			if err := os.Rename(filepath.Join(through, "broker.yaml"), filepath.Join(through, "gone.yaml")); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(through, "broker.yaml"), []byte("issuer: https://evil.example.com\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			if cfg, err := Load(path); err == nil || !strings.Contains(err.Error(), "anyone may replace it there") {
				t.Fatalf("Load(%s) = %v, %v: %s (0777) is in the upper layer of the writable overlay at %s, where it was just replaced; want it refused as replaceable",
					path, cfg, err, conf, merged)
			}
		})
	}
}

// bindReadOnly mounts dir read-only at at until the test ends.
func bindReadOnly(t *testing.T, dir, at string) {
	t.Helper()
	if err := syscall.Mount(dir, at, "", syscall.MS_BIND, ""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Unmount(at, syscall.MNT_DETACH) })
	if err := syscall.Mount("", at, "", syscall.MS_REMOUNT|syscall.MS_BIND|syscall.MS_RDONLY, ""); err != nil {
		t.Fatal(err)
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
