package keys_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/brokerhq/broker/keys"
	"github.com/brokerhq/broker/keys/keystest"
)

// TestFileNonRegularMetaNameIsNoConflict checks that a directory or symlink carrying the next
// generation's metadata name (a stray entry, which Load ignores) makes Save fail naming it, not
// with ErrConflict: a conflict while Load keeps returning the same generation would have a
// Manager reload and retry forever and never rotate again.
func TestFileNonRegularMetaNameIsNoConflict(t *testing.T) {
	for name, plant := range map[string]func(path string) error{
		"directory":        func(path string) error { return os.Mkdir(path, 0o700) },
		"dangling symlink": func(path string) error { return os.Symlink("nowhere", path) },
	} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "keys")
			b := keys.NewFile(dir)
			mustSave(t, b, 1, keystest.NewKey(t, keys.ES256, t0))
			if err := plant(filepath.Join(dir, "keyset-000000000002.json")); err != nil {
				t.Fatal(err)
			}
			set := mustLoad(t, b)
			next := keys.Set{Generation: set.Generation + 1, Keys: set.Keys}
			err := b.Save(context.Background(), next)
			if errors.Is(err, keys.ErrConflict) {
				if again := mustLoad(t, b); again.Generation == set.Generation {
					t.Fatalf("Save(generation %d) = %v, yet Load still returns generation %d",
						next.Generation, err, again.Generation)
				}
			}
		})
	}
}
