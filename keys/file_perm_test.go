package keys_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/brokerhq/broker/keys"
	"github.com/brokerhq/broker/keys/keystest"
)

// nobody is the uid the ownership tests hand files to.
const nobody = 65534

// TestFileRefusesInsecureFiles checks that Load refuses a key directory, a PEM or a key set file
// that another account could read or change, naming the file and its mode or owner.
func TestFileRefusesInsecureFiles(t *testing.T) {
	es := keystest.NewKey(t, keys.ES256, t0)
	pem := es.KID + ".pem"
	meta := "keyset-000000000001.json"
	tests := []struct {
		name   string
		root   bool // needs root to chown
		change func(dir string) error
		want   []string // substrings of the error
	}{
		{"PEM 0660", false, chmod(pem, 0o660), []string{pem, "0660"}},
		{"PEM 0644", false, chmod(pem, 0o644), []string{pem, "0644"}},
		{"PEM 0604", false, chmod(pem, 0o604), []string{pem, "0604"}},
		{"key set file 0644", false, chmod(meta, 0o644), []string{meta, "0644"}},
		{"directory 0777", false, chmod(".", 0o777), []string{"key directory", "0777"}},
		{"directory 0770", false, chmod(".", 0o770), []string{"key directory", "0770"}},
		{"directory 0702", false, chmod(".", 0o702), []string{"key directory", "0702"}},
		{"PEM owned by another user", true, chown(pem), []string{pem, "uid 65534"}},
		{"key set file owned by another user", true, chown(meta), []string{meta, "uid 65534"}},
		{"directory owned by another user", true, chown("."), []string{"uid 65534"}},
		{"PEM replaced by a symlink to a directory", false, func(dir string) error {
			if err := os.Remove(filepath.Join(dir, pem)); err != nil {
				return err
			}
			return os.Symlink(t.TempDir(), filepath.Join(dir, pem))
		}, []string{pem, "not a regular file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.root && os.Geteuid() != 0 {
				t.Skip("SKIPPED: chown to another user needs root")
			}
			dir := filepath.Join(t.TempDir(), "keys")
			b := keys.NewFile(dir)
			mustSave(t, b, 1, es)
			mustLoad(t, b) // the set as saved loads
			if err := tt.change(dir); err != nil {
				t.Fatal(err)
			}
			_, err := b.Load(context.Background())
			if !errors.Is(err, keys.ErrInsecurePermissions) {
				t.Fatalf("Load = %v, want ErrInsecurePermissions", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "PRIVATE KEY") {
				t.Errorf("error %q leaks file content", err)
			}
		})
	}
}

// TestFileSaveRefusesInsecureDirectory checks that no key is written into a directory that
// others may write.
func TestFileSaveRefusesInsecureDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	es := keystest.NewKey(t, keys.ES256, t0)
	err := keys.NewFile(dir).Save(context.Background(), keys.Set{Generation: 1, Keys: []keys.Key{es}})
	if !errors.Is(err, keys.ErrInsecurePermissions) {
		t.Fatalf("Save into a 0777 directory = %v, want ErrInsecurePermissions", err)
	}
	if names := dirNames(t, dir); len(names) != 0 {
		t.Errorf("Save wrote %v into a 0777 directory", names)
	}
}

// TestFileKeyDirectoryNotADirectory checks that Load and Save name a key directory path that
// is a file, or that lies under a file, instead of reading or writing through it.
func TestFileKeyDirectoryNotADirectory(t *testing.T) {
	es := keystest.NewKey(t, keys.ES256, t0)
	file := filepath.Join(t.TempDir(), "keys")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		dir  string
		want string // how Load's error starts
	}{
		{"a file", file, "keys: key directory " + file + " is not a directory"},
		{"under a file", filepath.Join(file, "sub"), "keys: key directory: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := keys.NewFile(tt.dir)
			if _, err := b.Load(context.Background()); err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("Load = %v, want an error starting %q", err, tt.want)
			}
			err := b.Save(context.Background(), keys.Set{Generation: 1, Keys: []keys.Key{es}})
			if err == nil || !strings.Contains(err.Error(), "not a directory") {
				t.Errorf("Save = %v, want an error saying the path is not a directory", err)
			}
		})
	}
}

// TestFileAcceptsStricterModes checks that the rule refuses access by others, not a private
// file or directory that is stricter than the modes Save creates.
func TestFileAcceptsStricterModes(t *testing.T) {
	es := keystest.NewKey(t, keys.ES256, t0)
	dir := filepath.Join(t.TempDir(), "keys")
	b := keys.NewFile(dir)
	mustSave(t, b, 1, es)
	for _, c := range []func(string) error{
		chmod(es.KID+".pem", 0o400), chmod("keyset-000000000001.json", 0o400), chmod(".", 0o755),
	} {
		if err := c(dir); err != nil {
			t.Fatal(err)
		}
	}
	if set := mustLoad(t, b); len(set.Keys) != 1 || set.Keys[0].KID != es.KID {
		t.Fatalf("Load = %v, want the saved key", kids(set))
	}
}

// TestReadPrivateFile checks the rule on a file outside a key directory.
func TestReadPrivateFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(path, []byte("s3cret"), 0o600); err != nil {
		t.Fatal(err)
	}
	if data, err := keys.ReadPrivateFile(path); err != nil || string(data) != "s3cret" {
		t.Fatalf("ReadPrivateFile of a 0600 file = %q, %v", data, err)
	}
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	_, err := keys.ReadPrivateFile(path)
	if !errors.Is(err, keys.ErrInsecurePermissions) || !strings.Contains(err.Error(), path) ||
		!strings.Contains(err.Error(), "0640") || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("ReadPrivateFile of a 0640 file = %v, want ErrInsecurePermissions naming the file and its mode", err)
	}
}

func chmod(name string, mode os.FileMode) func(dir string) error {
	return func(dir string) error { return os.Chmod(filepath.Join(dir, name), mode) }
}

func chown(name string) func(dir string) error {
	return func(dir string) error { return os.Chown(filepath.Join(dir, name), nobody, nobody) }
}
