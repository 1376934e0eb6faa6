package keys_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/keys"
	"github.com/brokerhq/broker/keys/keystest"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func mustSave(t *testing.T, b keys.Backend, gen int64, ks ...keys.Key) {
	t.Helper()
	if err := b.Save(context.Background(), keys.Set{Generation: gen, Keys: ks}); err != nil {
		t.Fatalf("Save(generation %d): %v", gen, err)
	}
}

func mustLoad(t *testing.T, b keys.Backend) keys.Set {
	t.Helper()
	set, err := b.Load(context.Background())
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return set
}

func kids(set keys.Set) []string {
	out := make([]string, len(set.Keys))
	for i, k := range set.Keys {
		out[i] = k.KID
	}
	return out
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestFileModes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nested", "keys")
	b := keys.NewFile(dir)
	if set := mustLoad(t, b); set.Generation != 0 {
		t.Fatalf("Load of a missing dir: generation %d", set.Generation)
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Load created the directory: %v", err)
	}
	rs := keystest.NewKey(t, keys.RS256, t0)
	es := keystest.NewKey(t, keys.ES256, t0)
	mustSave(t, b, 1, rs, es)

	info, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := info.Mode().Perm(); got != 0o700 {
		t.Errorf("dir mode = %o, want 700", got)
	}
	for _, k := range []keys.Key{rs, es} {
		path := filepath.Join(dir, k.KID+".pem")
		info, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := info.Mode().Perm(); got != 0o600 {
			t.Errorf("%s mode = %o, want 600", path, got)
		}
		data, _ := os.ReadFile(path)
		if !strings.HasPrefix(string(data), "-----BEGIN PRIVATE KEY-----\n") {
			t.Errorf("%s is not a PKCS#8 PEM", path)
		}
	}
	meta, err := os.ReadFile(filepath.Join(dir, "keyset-000000000001.json"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(meta), "PRIVATE") || !strings.Contains(string(meta), rs.KID) {
		t.Errorf("metadata holds a secret or misses a kid:\n%s", meta)
	}
	want := []string{"keyset-000000000001.json", es.KID + ".pem", rs.KID + ".pem"}
	slices.Sort(want)
	if got := dirNames(t, dir); !slices.Equal(got, want) {
		t.Errorf("directory = %v, want %v", got, want)
	}
}

func TestFileReplicasSeeEachOther(t *testing.T) {
	dir := t.TempDir()
	a, b := keys.NewFile(dir), keys.NewFile(dir)
	k1 := keystest.NewKey(t, keys.ES256, t0)
	mustSave(t, a, 1, k1)
	if got := kids(mustLoad(t, b)); !slices.Equal(got, []string{k1.KID}) {
		t.Fatalf("replica b sees %v", got)
	}
	k2 := keystest.NewKey(t, keys.ES256, t0)
	mustSave(t, b, 2, k1, k2)
	got := mustLoad(t, a)
	if got.Generation != 2 || !slices.Equal(kids(got), []string{k1.KID, k2.KID}) {
		t.Fatalf("replica a sees generation %d %v", got.Generation, kids(got))
	}
	keystest.SignAndVerify(t, keys.ES256, got.Keys[1].Signer, k2.Public())
	if err := a.Save(context.Background(), keys.Set{Generation: 2, Keys: []keys.Key{k1}}); !errors.Is(err, keys.ErrConflict) {
		t.Fatalf("stale save on replica a = %v, want ErrConflict", err)
	}
}

func TestFileCleanup(t *testing.T) {
	dir := t.TempDir()
	b := keys.NewFile(dir)
	a := keystest.NewKey(t, keys.ES256, t0)
	k := keystest.NewKey(t, keys.ES256, t0)
	mustSave(t, b, 1, a, k)
	mustSave(t, b, 2, k)
	if _, err := os.Stat(filepath.Join(dir, a.KID+".pem")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("PEM of dropped key still there: %v", err)
	}
	mustSave(t, b, 3, k)
	mustSave(t, b, 4, k)
	want := []string{"keyset-000000000003.json", "keyset-000000000004.json", k.KID + ".pem"}
	slices.Sort(want)
	if got := dirNames(t, dir); !slices.Equal(got, want) {
		t.Errorf("directory = %v, want %v", got, want)
	}
}

func TestFileOrphansRemovedAfterGrace(t *testing.T) {
	dir := t.TempDir()
	b := keys.NewFile(dir)
	k := keystest.NewKey(t, keys.ES256, t0)
	mustSave(t, b, 1, k)
	old := time.Now().Add(-2 * time.Hour)
	for _, name := range []string{"old.pem", ".tmp-old"} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(path, old, old); err != nil {
			t.Fatal(err)
		}
	}
	// A young unreferenced PEM may belong to a Save in flight in another process.
	if err := os.WriteFile(filepath.Join(dir, "young.pem"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	mustSave(t, b, 2, k)
	want := []string{"keyset-000000000001.json", "keyset-000000000002.json", k.KID + ".pem", "young.pem"}
	slices.Sort(want)
	if got := dirNames(t, dir); !slices.Equal(got, want) {
		t.Errorf("directory = %v, want %v", got, want)
	}
}

func TestFileLoadErrors(t *testing.T) {
	es := keystest.NewKey(t, keys.ES256, t0)
	other := keystest.NewKey(t, keys.ES256, t0)
	metaFile := "keyset-000000000001.json"
	tests := []struct {
		name    string
		corrupt func(t *testing.T, dir string)
		want    []string // substrings of the error
		wantIs  error
	}{{
		name:    "metadata not JSON",
		corrupt: writeFile(metaFile, "{not json"),
		want:    []string{metaFile, "corrupted key set metadata"},
	}, {
		name:    "metadata of another generation",
		corrupt: writeFile(metaFile, `{"format":1,"generation":7,"keys":[]}`),
		want:    []string{metaFile, "generation 7"},
	}, {
		name:    "metadata of an unknown format",
		corrupt: writeFile(metaFile, `{"format":9,"generation":1,"keys":[]}`),
		want:    []string{metaFile, "format 9"},
	}, {
		name:    "kid escaping the directory",
		corrupt: writeFile(metaFile, `{"format":1,"generation":1,"keys":[{"kid":"../x","alg":"ES256"}]}`),
		want:    []string{metaFile, "base64url"},
	}, {
		name:    "key of an unknown alg",
		corrupt: writeFile(metaFile, `{"format":1,"generation":1,"keys":[{"kid":"`+es.KID+`","alg":"HS256"}]}`),
		want:    []string{metaFile, es.KID, `alg "HS256"`},
	}, {
		// An empty alg would otherwise read as the default algorithm: a hand edit must not
		// decide which chain a key belongs to.
		name:    "key without an alg",
		corrupt: writeFile(metaFile, `{"format":1,"generation":1,"keys":[{"kid":"`+es.KID+`","alg":""}]}`),
		want:    []string{metaFile, es.KID, `alg ""`},
	}, {
		name: "revocation of a kid escaping the directory",
		corrupt: writeFile(metaFile, `{"format":1,"generation":1,"keys":[],`+
			`"revoked":[{"kid":"../y","at":"2026-01-01T00:00:00Z"}]}`),
		want: []string{metaFile, "revocation", "base64url"},
	}, {
		name:    "missing PEM",
		corrupt: func(t *testing.T, dir string) { _ = os.Remove(filepath.Join(dir, es.KID+".pem")) },
		want:    []string{es.KID + ".pem", "missing private key"},
		wantIs:  fs.ErrNotExist,
	}, {
		name:    "PEM not a key",
		corrupt: writeFile(es.KID+".pem", "garbage-secret-bytes"),
		want:    []string{es.KID + ".pem", "not a PKCS#8 PEM"},
	}, {
		name:    "PEM with a bad body",
		corrupt: writeFile(es.KID+".pem", "-----BEGIN PRIVATE KEY-----\nZ2FyYmFnZQ==\n-----END PRIVATE KEY-----\n"),
		want:    []string{es.KID + ".pem", "parse private key"},
	}, {
		name: "PEM of another key",
		corrupt: func(t *testing.T, dir string) {
			data, err := os.ReadFile(filepath.Join(dir, other.KID+".pem"))
			if err != nil {
				t.Fatal(err)
			}
			writeFile(es.KID+".pem", string(data))(t, dir)
		},
		want: []string{es.KID + ".pem", "does not match kid"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			b := keys.NewFile(dir)
			mustSave(t, keys.NewFile(filepath.Join(dir, "other")), 1, other)
			_ = os.Rename(filepath.Join(dir, "other", other.KID+".pem"), filepath.Join(dir, other.KID+".pem"))
			mustSave(t, b, 1, es)
			tt.corrupt(t, dir)
			_, err := b.Load(context.Background())
			if err == nil {
				t.Fatal("Load succeeded")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("error %v is not %v", err, tt.wantIs)
			}
			for _, secret := range []string{"garbage-secret-bytes", "Z2FyYmFnZQ", "PRIVATE KEY"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q leaks file content", err)
				}
			}
		})
	}
}

func writeFile(name, content string) func(t *testing.T, dir string) {
	return func(t *testing.T, dir string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}
