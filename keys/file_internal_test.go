package keys

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
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
