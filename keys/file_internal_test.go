package keys

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var epoch = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func genKey(t *testing.T) Key {
	t.Helper()
	k, err := Generate(ES256, epoch)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func saveSet(t *testing.T, b Backend, gen int64, ks ...Key) {
	t.Helper()
	if err := b.Save(context.Background(), Set{Generation: gen, Keys: ks}); err != nil {
		t.Fatalf("Save(generation %d): %v", gen, err)
	}
}

// A writer that loses the race at os.Link removes the PEM it wrote for its new key.
func TestFileLoserRemovesItsPEM(t *testing.T) {
	dir := t.TempDir()
	base, mine, theirs := genKey(t), genKey(t), genKey(t)
	saveSet(t, NewFile(dir), 1, base)
	loser := NewFile(dir)
	loser.beforeLink = func() { saveSet(t, NewFile(dir), 2, base, theirs) }
	err := loser.Save(context.Background(), Set{Generation: 2, Keys: []Key{base, mine}})
	if !errors.Is(err, ErrConflict) {
		t.Fatalf("Save = %v, want ErrConflict", err)
	}
	if _, err := os.Stat(filepath.Join(dir, mine.KID+".pem")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("loser's PEM left behind: %v", err)
	}
	for _, k := range []Key{base, theirs} {
		if _, err := os.Stat(filepath.Join(dir, k.KID+".pem")); err != nil {
			t.Errorf("winner's PEM: %v", err)
		}
	}
}

// Two writers saving the same new key: the loser keeps the PEM the winner's set needs.
func TestFileLoserKeepsSharedPEM(t *testing.T) {
	dir := t.TempDir()
	base, shared := genKey(t), genKey(t)
	saveSet(t, NewFile(dir), 1, base)
	loser := NewFile(dir)
	loser.beforeLink = func() {
		// The winner finds the PEM the loser wrote and publishes generation 2 with it.
		saveSet(t, NewFile(dir), 2, base, shared)
	}
	if err := loser.Save(context.Background(), Set{Generation: 2, Keys: []Key{base, shared}}); !errors.Is(err, ErrConflict) {
		t.Fatalf("Save = %v, want ErrConflict", err)
	}
	set, err := NewFile(dir).Load(context.Background())
	if err != nil || len(set.Keys) != 2 {
		t.Fatalf("Load = %d keys, %v", len(set.Keys), err)
	}
}

// A writer that stalled while others published generations g, g+1, g+2 (and cleanup removed g)
// must not resurrect g: it takes its file back and reports the conflict.
func TestFileStalledWriterDoesNotResurrect(t *testing.T) {
	dir := t.TempDir()
	base, mine := genKey(t), genKey(t)
	saveSet(t, NewFile(dir), 1, base)
	stalled := NewFile(dir)
	stalled.beforeLink = func() {
		other := NewFile(dir)
		for gen := int64(2); gen <= 4; gen++ {
			saveSet(t, other, gen, base)
		}
		if _, err := os.Stat(other.metaPath(2)); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("generation 2 not cleaned up: %v", err)
		}
	}
	err := stalled.Save(context.Background(), Set{Generation: 2, Keys: []Key{base, mine}})
	if !errors.Is(err, ErrConflict) {
		t.Fatalf("Save = %v, want ErrConflict", err)
	}
	for _, path := range []string{stalled.metaPath(2), stalled.pemPath(mine.KID)} {
		if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s left behind: %v", path, err)
		}
	}
	set, err := stalled.Load(context.Background())
	if err != nil || set.Generation != 4 {
		t.Fatalf("Load = generation %d, %v; want 4", set.Generation, err)
	}
}

// Load starts over when the generation it picked lost a PEM to a concurrent Save's cleanup.
func TestFileLoadRetriesAfterConcurrentCleanup(t *testing.T) {
	dir := t.TempDir()
	dropped, kept := genKey(t), genKey(t)
	saveSet(t, NewFile(dir), 1, dropped, kept)
	reader := NewFile(dir)
	picks := 0
	reader.afterPick = func() {
		if picks++; picks == 1 {
			saveSet(t, NewFile(dir), 2, kept) // removes the PEM of dropped
		}
	}
	set, err := reader.Load(context.Background())
	if err != nil || set.Generation != 2 || len(set.Keys) != 1 || set.Keys[0].KID != kept.KID {
		t.Fatalf("Load = generation %d with %d keys, %v; want generation 2 with %s", set.Generation, len(set.Keys), err, kept.KID)
	}
	if picks != 2 {
		t.Errorf("Load read %d generations, want 2", picks)
	}
}

// A PEM missing with no newer generation is a final error, not retried.
func TestFileLoadMissingPEMIsFinal(t *testing.T) {
	dir := t.TempDir()
	k := genKey(t)
	saveSet(t, NewFile(dir), 1, k)
	if err := os.Remove(filepath.Join(dir, k.KID+".pem")); err != nil {
		t.Fatal(err)
	}
	reader := NewFile(dir)
	picks := 0
	reader.afterPick = func() { picks++ }
	if _, err := reader.Load(context.Background()); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Load = %v, want a missing file error", err)
	}
	if picks != 1 {
		t.Errorf("Load read %d generations, want 1", picks)
	}
}

func TestParseMetaName(t *testing.T) {
	tests := []struct {
		name string
		gen  int64
		ok   bool
	}{
		{"keyset-000000000001.json", 1, true},
		{"keyset-123456789012.json", 123456789012, true},
		{"keyset-1234567890123.json", 1234567890123, true},
		{"keyset-000000000000.json", 0, false},
		{"keyset-00000000001.json", 0, false},
		{"keyset-00000000000a.json", 0, false},
		{"keyset-000000000001.json.tmp", 0, false},
		{".tmp-123", 0, false},
	}
	for _, tt := range tests {
		gen, ok := parseMetaName(tt.name)
		if gen != tt.gen || ok != tt.ok {
			t.Errorf("parseMetaName(%q) = %d, %v; want %d, %v", tt.name, gen, ok, tt.gen, tt.ok)
		}
	}
	if got := metaName(42); got != "keyset-000000000042.json" {
		t.Errorf("metaName(42) = %q", got)
	}
}

// Load starts over when the metadata file of the generation it picked was removed meanwhile by
// a concurrent Save's cleanup (two newer generations saved), and returns the newest set.
// Guards against: readMeta's ErrNotExist not counted as stale, file.go:load
func TestFileLoadRetriesWhenPickedMetadataWasCleanedUp(t *testing.T) {
	dir := t.TempDir()
	k := genKey(t)
	saveSet(t, NewFile(dir), 1, k)
	saveSet(t, NewFile(dir), 2, k)
	reader := NewFile(dir)
	picks := 0
	reader.afterPick = func() {
		if picks++; picks == 1 {
			saveSet(t, NewFile(dir), 3, k)
			saveSet(t, NewFile(dir), 4, k) // its cleanup removes generation 2's metadata
		}
	}
	set, err := reader.Load(context.Background())
	if err != nil || set.Generation != 4 {
		t.Fatalf("Load = generation %d, %v; want generation 4", set.Generation, err)
	}
	if picks != 2 {
		t.Errorf("Load read %d generations, want 2", picks)
	}
}

// Load gives up after a bounded number of attempts while writers keep removing the generation
// it picked: it fails with the missing-file error instead of retrying without end.
// Guards against: attempt bound dropped, file.go:File.Load
func TestFileLoadGivesUpAfterBoundedAttempts(t *testing.T) {
	dir := t.TempDir()
	k := genKey(t)
	saveSet(t, NewFile(dir), 1, k)
	reader := NewFile(dir)
	gen, picks := int64(1), 0
	reader.afterPick = func() {
		picks++
		if picks > 3*loadAttempts {
			return // a mutant retrying without end gets through here
		}
		gen += 2
		saveSet(t, NewFile(dir), gen-1, k)
		saveSet(t, NewFile(dir), gen, k) // removes the generation picked
	}
	_, err := reader.Load(context.Background())
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Load = %v, want the missing metadata error", err)
	}
	if picks != loadAttempts {
		t.Errorf("Load read %d generations, want %d", picks, loadAttempts)
	}
}

// A metadata file naming the algorithm of a key wrongly (ES256 for an RSA key whose thumbprint
// is its KID) is refused on Load: the key would otherwise be published and used under an
// algorithm its type cannot sign.
// Guards against: checkAlg skipped, file.go:readPEM
func TestFileLoadRefusesKeyOfAnotherAlgThanItsMetadata(t *testing.T) {
	dir := t.TempDir()
	rsaKey, err := Generate(RS256, epoch)
	if err != nil {
		t.Fatal(err)
	}
	f := NewFile(dir)
	saveSet(t, f, 1, rsaKey)
	path := f.metaPath(1)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(data), `"alg": "RS256"`, `"alg": "ES256"`, 1)
	if edited == string(data) {
		t.Fatalf("metadata has no RS256 alg to edit: %s", data)
	}
	if err := os.WriteFile(path, []byte(edited), 0o600); err != nil {
		t.Fatal(err)
	}
	if set, err := f.Load(context.Background()); !errors.Is(err, ErrUnsupportedAlg) {
		t.Fatalf("Load = %d keys, %v; want an error wrapping ErrUnsupportedAlg", len(set.Keys), err)
	}
}

// A PEM file whose block is not labelled PRIVATE KEY (here EC PRIVATE KEY around PKCS#8 bytes)
// is refused: key files are PKCS#8 PEM only.
// Guards against: PEM block type not checked, file.go:readPEM
func TestFileLoadRefusesMislabelledPEM(t *testing.T) {
	dir := t.TempDir()
	k := genKey(t)
	f := NewFile(dir)
	saveSet(t, f, 1, k)
	path := f.pemPath(k.KID)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	relabelled := strings.ReplaceAll(string(data), " PRIVATE KEY-----", " EC PRIVATE KEY-----")
	if err := os.WriteFile(path, []byte(relabelled), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = f.Load(context.Background())
	if err == nil || !strings.Contains(err.Error(), "not a PKCS#8 PEM") {
		t.Fatalf("Load = %v, want a not-PKCS#8-PEM error", err)
	}
}

// An entry named like a metadata file that is not a regular file (a directory) is not a
// generation: Load reads the set below it and Save compares and swaps against that set.
// Guards against: IsRegular dropped from the listing, file.go:generations
func TestFileIgnoresNonRegularGenerationEntries(t *testing.T) {
	dir := t.TempDir()
	k := genKey(t)
	f := NewFile(dir)
	saveSet(t, f, 1, k)
	if err := os.Mkdir(filepath.Join(dir, metaName(9)), 0o700); err != nil {
		t.Fatal(err)
	}
	set, err := f.Load(context.Background())
	if err != nil || set.Generation != 1 {
		t.Fatalf("Load = generation %d, %v; want generation 1", set.Generation, err)
	}
	saveSet(t, f, 2, k)
}

// A KID is made of base64url characters only (letters, digits, '-' and '_'): it becomes a file
// name and a JWT header value, so '.', '/', '+', '=' and the like are refused.
// Guards against: '.' allowed, set.go:validKID
func TestValidKIDIsBase64URLOnly(t *testing.T) {
	for _, kid := range []string{"a.b", "..", "a/b", "a+b", "a=", "a b", "ä"} {
		if err := validKID(kid); err == nil {
			t.Errorf("validKID(%q) = nil, want an error", kid)
		}
	}
	if err := validKID("aZ09-_"); err != nil {
		t.Errorf("validKID(aZ09-_) = %v, want nil", err)
	}
}
