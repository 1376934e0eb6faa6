package keys

import (
	"context"
	"encoding/json"
	"os"
	"testing"
	"time"
)

// editMeta rewrites the metadata file of generation 1 in f's directory through edit.
func editMeta(t *testing.T, f *File, edit func(*fileSet)) {
	t.Helper()
	path := f.metaPath(1)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var fs fileSet
	if err := json.Unmarshal(data, &fs); err != nil {
		t.Fatal(err)
	}
	edit(&fs)
	if data, err = json.Marshal(fs); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestFileLoadRefusesASetThatValidateRefuses: the file backend refuses on Load a stored set
// that Set.Validate (and so Save) refuses, as the Redis backend does: above all a set that
// lists a key as revoked and still holds it, which a replica starting on it would publish and
// sign with.
// Guards against: File.load returning the stored set without Set.Validate
func TestFileLoadRefusesASetThatValidateRefuses(t *testing.T) {
	tests := []struct {
		name string
		edit func(*fileSet)
	}{{
		name: "a revoked key still in the set",
		edit: func(fs *fileSet) {
			fs.Revoked = []Revocation{{KID: fs.Keys[0].KID, At: epoch.Add(time.Hour)}}
		},
	}, {
		name: "a key listed twice",
		edit: func(fs *fileSet) { fs.Keys = append(fs.Keys, fs.Keys[0]) },
	}, {
		name: "a key without activates",
		edit: func(fs *fileSet) { fs.Keys[0].Activates = time.Time{} },
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := NewFile(t.TempDir())
			k := genKey(t)
			saveSet(t, f, 1, k)
			editMeta(t, f, tt.edit)
			set, err := f.Load(context.Background())
			if err == nil {
				t.Fatalf("Load = generation %d with %d keys, %d revoked; want an error",
					set.Generation, len(set.Keys), len(set.Revoked))
			}
		})
	}
}
