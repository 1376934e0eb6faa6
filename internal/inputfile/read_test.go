package inputfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// errRefused stands for a Check's own refusal.
var errRefused = errors.New("refused by the check")

// TestReadWith checks the rule ReadWith applies, in its order: a regular file first (a directory
// or a FIFO is refused with ErrNotRegular, at once and before Check sees it), then Check, whose
// error comes back as it is, then the size, whose refusal names the kind of file.
func TestReadWith(t *testing.T) {
	dir := t.TempDir()
	small := filepath.Join(dir, "small")
	if err := os.WriteFile(small, []byte("0123456789"), 0o600); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	refuse := func(string, fs.FileInfo) error { return errRefused }
	for _, tc := range []struct {
		name    string
		path    string
		rule    Rule
		want    string
		wantErr error
		wantMsg string
	}{
		{name: "within the limit", path: small, rule: Rule{Limit: 10}, want: "0123456789"},
		{name: "over the limit, unnamed", path: small, rule: Rule{Limit: 9},
			wantMsg: "is 10 bytes, more than the 9 it may have"},
		{name: "over the limit, named", path: small, rule: Rule{Limit: 9, What: "a key file"},
			wantMsg: "more than the 9 a key file may have"},
		{name: "a directory", path: dir, rule: Rule{Limit: 1 << 20, Check: refuse},
			wantErr: ErrNotRegular},
		{name: "a FIFO", path: fifo, rule: Rule{Limit: 1 << 20, Check: refuse},
			wantErr: ErrNotRegular},
		{name: "the check refuses", path: small, rule: Rule{Limit: 10, Check: refuse},
			wantErr: errRefused},
		{name: "the check refuses before the size", path: small, rule: Rule{Limit: 1, Check: refuse},
			wantErr: errRefused},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ReadWith(tc.path, tc.rule)
			switch {
			case tc.wantErr != nil:
				if !errors.Is(err, tc.wantErr) || got != nil {
					t.Fatalf("ReadWith = %q, %v; want nothing and %v", got, err, tc.wantErr)
				}
			case tc.wantMsg != "":
				if err == nil || !strings.Contains(err.Error(), tc.wantMsg) || got != nil {
					t.Fatalf("ReadWith = %q, %v; want nothing and %q", got, err, tc.wantMsg)
				}
			case err != nil || string(got) != tc.want:
				t.Fatalf("ReadWith = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

// TestReadWithCheckSeesTheFile checks that Check is given the path and the opened file's
// information.
func TestReadWithCheckSeesTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(path, []byte("abc"), 0o640); err != nil {
		t.Fatal(err)
	}
	var gotPath string
	var gotInfo fs.FileInfo
	_, err := ReadWith(path, Rule{Limit: 3, Check: func(p string, info fs.FileInfo) error {
		gotPath, gotInfo = p, info
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	if gotPath != path || gotInfo == nil || gotInfo.Size() != 3 || gotInfo.Mode().Perm() != 0o640 {
		t.Fatalf("Check saw %q, %v; want %q, a 3-byte file of mode 0640", gotPath, gotInfo, path)
	}
}
