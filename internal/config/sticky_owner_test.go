package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLoadRefusesNameInStickyDirOwnedByAnother: in a sticky directory anyone may write (as /tmp
// is) only a name's owner may rename or replace it, but anyone may have made the name. A
// directory or file there owned by another user lets that user put their own configuration in
// place, so it is refused; one owned by root, by the user broker runs as or by the sticky
// directory's owner is loaded.
// Guards against: decode.go:replaceableIn passing every name in a sticky directory
func TestLoadRefusesNameInStickyDirOwnedByAnother(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("SKIPPED: needs root to give a name to another user")
	}
	const other = 65534
	for _, tc := range []struct {
		name     string
		dirOwner int  // the sticky directory's owner
		confUID  int  // owner of conf, the directory holding broker.yaml in the sticky one
		fileUID  int  // owner of broker.yaml, when it lies in the sticky directory itself
		flat     bool // broker.yaml lies in the sticky directory itself
		refused  bool
	}{
		{name: "a directory owned by another", confUID: other, refused: true},
		{name: "the file owned by another", flat: true, fileUID: other, refused: true},
		{name: "a directory owned by root", confUID: 0},
		{name: "the file owned by root", flat: true, fileUID: 0},
		{name: "a directory owned by the sticky directory's owner", dirOwner: other, confUID: other},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sticky := t.TempDir()
			path := filepath.Join(sticky, "broker.yaml")
			owned := path
			if !tc.flat {
				owned = filepath.Join(sticky, "conf")
				if err := os.Mkdir(owned, 0o755); err != nil {
					t.Fatal(err)
				}
				path = filepath.Join(owned, "broker.yaml")
			}
			if err := os.WriteFile(path, []byte("issuer: https://broker.example.com\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			uid := tc.confUID
			if tc.flat {
				uid = tc.fileUID
			}
			for _, c := range []struct {
				path string
				uid  int
			}{{owned, uid}, {sticky, tc.dirOwner}} {
				if err := os.Chown(c.path, c.uid, c.uid); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.Chmod(sticky, 0o777|os.ModeSticky); err != nil {
				t.Fatal(err)
			}
			_, err := Load(path)
			switch {
			case tc.refused && (err == nil || !strings.Contains(err.Error(), "owned by uid 65534") || !strings.Contains(err.Error(), sticky)):
				t.Errorf("Load(%s) = %v, want it refused naming the owner and %s", path, err, sticky)
			case !tc.refused && err != nil:
				t.Errorf("Load(%s) = %v, want it loaded", path, err)
			}
		})
	}
}
