//go:build unix

package keys

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// foreignOwnerInfo is a file's info that names another user as its owner.
type foreignOwnerInfo struct {
	fs.FileInfo
	st *syscall.Stat_t
}

func (p foreignOwnerInfo) Sys() any { return p.st }

// TestOwnerCheckedWithoutRoot checks that a key file owned by another user than the one broker
// runs as is refused with ErrInsecurePermissions naming its uid, with the owner given through
// the file's information, so that the rule is tested where the tests do not run as root (the
// chown cases of file_perm_test.go skip there).
func TestOwnerCheckedWithoutRoot(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k.pem")
	if err := os.WriteFile(path, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	info, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	st := *info.Sys().(*syscall.Stat_t)
	if err := checkOwner(path, info); err != nil {
		t.Fatalf("own file refused: %v", err)
	}
	st.Uid = uint32(os.Geteuid() + 1)
	err = checkOwner(path, foreignOwnerInfo{FileInfo: info, st: &st})
	if !errors.Is(err, ErrInsecurePermissions) {
		t.Fatalf("file owned by uid %d: %v, want ErrInsecurePermissions", st.Uid, err)
	}
	if !strings.Contains(err.Error(), "uid "+strconv.Itoa(int(st.Uid))) {
		t.Errorf("error %q does not name the owner", err)
	}
}
