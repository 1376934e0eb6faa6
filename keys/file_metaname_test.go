package keys

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestNonCanonicalMetadataNameIsNotAGeneration: only a metadata file named exactly as
// Save names its generation (keyset-<generation zero padded to 12 digits>.json) counts as a
// generation. A stray name with extra leading zeros (a hand-made copy) must not become the
// highest generation, which Load then looks for under its canonical name and never finds,
// so that every replica fails to load and no rotation can be saved.
// Guards against: parseMetaName accepting zero-padded names longer than 12 digits
func TestNonCanonicalMetadataNameIsNotAGeneration(t *testing.T) {
	dir := t.TempDir()
	f := NewFile(dir)
	saveSet(t, f, 1, genKey(t))
	data, err := os.ReadFile(f.metaPath(1))
	if err != nil {
		t.Fatal(err)
	}
	stray := filepath.Join(dir, "keyset-0000000000002.json")
	if err := os.WriteFile(stray, data, 0o600); err != nil {
		t.Fatal(err)
	}
	set, err := f.Load(context.Background())
	if err != nil || set.Generation != 1 {
		t.Fatalf("Load = generation %d, %v; want generation 1 (stray %s ignored)",
			set.Generation, err, filepath.Base(stray))
	}
}
