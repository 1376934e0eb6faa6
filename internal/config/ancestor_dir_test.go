package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeUnder makes dir/conf/broker.yaml (conf 0755, the file 0644) below dir, chmodded to mode,
// and returns the file's path.
func writeUnder(t *testing.T, dir string, mode os.FileMode) string {
	t.Helper()
	if err := os.Chmod(dir, mode); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "conf")
	if err := os.Mkdir(conf, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(conf, "broker.yaml")
	if err := os.WriteFile(path, []byte("issuer: https://broker.example.com\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestLoadRefusesFileUnderReplaceableAncestor: a configuration file is refused when any directory
// on its way, not only its own, is one anyone may write and not sticky: whoever may write it may
// rename the directory below away and put one of their own, with their own broker.yaml, in its
// place. A sticky ancestor (as /tmp is) lets only a name's owner do that.
// Guards against: decode.go checkReplaceable checking only the file's own directory and those
// of the links on the way.
func TestLoadRefusesFileUnderReplaceableAncestor(t *testing.T) {
	for _, tc := range []struct {
		name    string
		mode    os.FileMode
		depth   int // directories between the open one and conf
		refused bool
	}{
		{"the parent of the file's directory open to all", 0o777, 0, true},
		{"an ancestor two levels up open to all", 0o777, 1, true},
		{"a sticky ancestor open to all", 0o777 | os.ModeSticky, 0, false},
		{"an ancestor writable by its owner only", 0o755, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			open := t.TempDir()
			dir := open
			for range tc.depth {
				dir = filepath.Join(dir, "sub")
				if err := os.Mkdir(dir, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			path := writeUnder(t, dir, 0o755)
			if err := os.Chmod(open, tc.mode); err != nil {
				t.Fatal(err)
			}
			_, err := Load(path)
			switch {
			case tc.refused && (err == nil || !strings.Contains(err.Error(), "anyone may replace it there") || !strings.Contains(err.Error(), open)):
				t.Errorf("Load(%s) = %v, want it refused naming %s", path, err, open)
			case !tc.refused && err != nil:
				t.Errorf("Load(%s) = %v, want it loaded", path, err)
			}
		})
	}
}
