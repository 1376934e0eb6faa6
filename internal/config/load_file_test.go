package config

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestLoadRefusesUnsafeFiles: Load reads only a regular file (a FIFO would block a reload, and
// every reload after it) that others may not write, nor replace in a directory they may write
// that is not sticky (the directory of the path, and of every symlink on the way to the file,
// and of the file), of at most MaxFileBytes; each refusal says why. A symlink to a good file, as
// Kubernetes mounts a ConfigMap, loads, and so does a file a umask of 002 made group-writable.
func TestLoadRefusesUnsafeFiles(t *testing.T) {
	const good = "issuer: https://broker.example.com\n"
	write := func(t *testing.T, body string, mode os.FileMode) string {
		t.Helper()
		path := filepath.Join(t.TempDir(), "broker.yaml")
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		return path
	}
	for _, tc := range []struct {
		name string
		path func(t *testing.T) string
		want string // empty: loads
	}{
		{"mode 0644", func(t *testing.T) string { return write(t, good, 0o644) }, ""},
		{"mode 0400", func(t *testing.T) string { return write(t, good, 0o400) }, ""},
		{"a symlink to a file of mode 0644", func(t *testing.T) string {
			link := filepath.Join(t.TempDir(), "broker.yaml")
			if err := os.Symlink(write(t, good, 0o644), link); err != nil {
				t.Fatal(err)
			}
			return link
		}, ""},
		{"mode 0664", func(t *testing.T) string { return write(t, good, 0o664) }, ""},
		{"mode 0666", func(t *testing.T) string { return write(t, good, 0o666) }, "has mode 0666: anyone may write it"},
		{"mode 0602", func(t *testing.T) string { return write(t, good, 0o602) }, "has mode 0602"},
		{"larger than MaxFileBytes", func(t *testing.T) string {
			return write(t, good+"#"+strings.Repeat("x", MaxFileBytes)+"\n", 0o644)
		}, "more than the 8388608 a configuration file may have"},
		{"in a directory anyone may write", func(t *testing.T) string {
			path := write(t, good, 0o644)
			if err := os.Chmod(filepath.Dir(path), 0o777); err != nil {
				t.Fatal(err)
			}
			return path
		}, "anyone may replace it there"},
		{"in a sticky directory anyone may write", func(t *testing.T) string {
			path := write(t, good, 0o644)
			if err := os.Chmod(filepath.Dir(path), 0o777|os.ModeSticky); err != nil {
				t.Fatal(err)
			}
			return path
		}, ""},
		{"a symlink to a file in a directory anyone may write", func(t *testing.T) string {
			target := write(t, good, 0o644)
			if err := os.Chmod(filepath.Dir(target), 0o777); err != nil {
				t.Fatal(err)
			}
			link := filepath.Join(t.TempDir(), "broker.yaml")
			if err := os.Symlink(target, link); err != nil {
				t.Fatal(err)
			}
			return link
		}, "(through the link to "},
		{"a chain through a link in a directory anyone may write", func(t *testing.T) string {
			open := t.TempDir()
			if err := os.Chmod(open, 0o777); err != nil {
				t.Fatal(err)
			}
			middle := filepath.Join(open, "broker.yaml")
			if err := os.Symlink(write(t, good, 0o644), middle); err != nil {
				t.Fatal(err)
			}
			link := filepath.Join(t.TempDir(), "broker.yaml")
			if err := os.Symlink(middle, link); err != nil {
				t.Fatal(err)
			}
			return link
		}, "anyone may replace it there"},
		{"a relative link with .. reached through a linked directory", func(t *testing.T) string {
			// The kernel starts .. from the directory the link really lies in (x/y), so the
			// file read is x/ww/broker.yaml, where anyone may replace it.
			base := t.TempDir()
			for dir, mode := range map[string]os.FileMode{"x/y": 0o755, "x/ww": 0o777} {
				if err := os.MkdirAll(filepath.Join(base, dir), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.Chmod(filepath.Join(base, dir), mode); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.WriteFile(filepath.Join(base, "x/ww/broker.yaml"), []byte(good), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(filepath.Join(base, "x/y"), filepath.Join(base, "d")); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink("../ww/broker.yaml", filepath.Join(base, "x/y/link.yaml")); err != nil {
				t.Fatal(err)
			}
			return filepath.Join(base, "d", "link.yaml")
		}, "anyone may replace it there"},
		{"a directory link in a directory anyone may write", func(t *testing.T) string {
			safe := filepath.Dir(write(t, good, 0o644))
			open := t.TempDir()
			if err := os.Chmod(open, 0o777); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(safe, filepath.Join(open, "dirlink")); err != nil {
				t.Fatal(err)
			}
			return filepath.Join(open, "dirlink", "broker.yaml")
		}, "(through the link "},
		{"a loop of links", func(t *testing.T) string {
			dir := t.TempDir()
			if err := os.Symlink("b.yaml", filepath.Join(dir, "a.yaml")); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink("a.yaml", filepath.Join(dir, "b.yaml")); err != nil {
				t.Fatal(err)
			}
			return filepath.Join(dir, "a.yaml")
		}, "too many levels of symbolic links"},
		{"a ConfigMap's relative links", func(t *testing.T) string {
			mount := t.TempDir()
			version := filepath.Join(mount, "..2026_12_04_10_00_00.1")
			if err := os.Mkdir(version, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(version, "broker.yaml"), []byte(good), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink("..2026_12_04_10_00_00.1", filepath.Join(mount, "..data")); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink("..data/broker.yaml", filepath.Join(mount, "broker.yaml")); err != nil {
				t.Fatal(err)
			}
			return filepath.Join(mount, "broker.yaml")
		}, ""},
		{"a directory", func(t *testing.T) string { return t.TempDir() }, "is not a regular file"},
		{"a FIFO", func(t *testing.T) string {
			path := filepath.Join(t.TempDir(), "broker.yaml")
			if err := syscall.Mkfifo(path, 0o600); err != nil {
				t.Fatal(err)
			}
			return path
		}, "is not a regular file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := tc.path(t)
			done := make(chan error, 1)
			go func() { _, err := Load(path); done <- err }()
			var err error
			select {
			case err = <-done:
			case <-time.After(30 * time.Second):
				t.Fatal("Load has not returned after 30s")
			}
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("Load: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("Load = %v, want an error saying %q", err, tc.want)
			}
		})
	}
}
