package catalog

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/config"
)

// digestFile is a small file: a space, a stack in it and a role.
func digestFile(labels ...string) Objects {
	return Objects{
		Spaces: []config.Space{{ID: "root"}},
		Stacks: []config.Stack{{ID: "api", Space: "root", Labels: labels}},
		Roles:  []config.Role{{ID: "reader", Actions: []string{config.ActionRunRead}}},
	}
}

// TestStartOnARecordWithoutDigests: a record of the file as seen written by a release that kept
// no digests is read; the start compares nothing with it (the edited stack keeps its version),
// writes the record with digests, and the next start raises the version of what changed since.
func TestStartOnARecordWithoutDigests(t *testing.T) {
	ctx := context.Background()
	store := NewMemory()
	old := seenOf(digestFile())
	old.Digests = nil
	body := encodeSeen(old)
	if bytes.Contains(body, []byte("digests")) {
		t.Fatalf("the older release's record holds digests: %s", body)
	}
	if _, err := store.Commit(ctx, Head{}, []Change{{Record: Record{Ref: seenRef, Version: 1, Created: 1, Body: body}}}); err != nil {
		t.Fatal(err)
	}
	stack := Ref{Kind: KindStack, ID: "api"}
	start := func(f Objects) *Manager {
		t.Helper()
		m, err := NewManager(ctx, ManagerConfig{Store: store, File: f})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	m := start(digestFile("edited"))
	if meta, _ := m.Live().Load().Meta(stack); meta.Version != 1 {
		t.Errorf("on a record without digests the stack is at version %d, want 1 (nothing to compare)", meta.Version)
	}
	snap, err := store.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	api, _, err := decodeRecords(snap, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := seenOf(digestFile("edited")).Digests; api.seen == nil || !maps.Equal(api.seen.Digests, want) {
		t.Fatalf("the start did not record the digests of its file: %+v", api.seen)
	}
	m = start(digestFile("edited", "again"))
	if meta, _ := m.Live().Load().Meta(stack); meta.Version != 2 {
		t.Errorf("edited after a start that recorded digests, the stack is at version %d, want 2", meta.Version)
	}
}

// TestSeenRecordReadByTheOlderDecoder: a replica of the release before digests decodes the
// record with its own fileSeen (three maps) through encoding/json, which skips the unknown
// field: it reads the places and prints as they are.
func TestSeenRecordReadByTheOlderDecoder(t *testing.T) {
	type olderSeen struct {
		Stacks  map[string]string `json:"stacks"`
		Spaces  map[string]string `json:"spaces"`
		APIKeys map[string]string `json:"apiKeys"`
	}
	f := digestFile("l")
	f.APIKeys = []config.APIKey{{ID: "ops", SecretSHA256: strings.Repeat("ab", 32)}}
	seen := seenOf(f)
	body := encodeSeen(seen)
	if !bytes.Contains(body, []byte(`"digests":{`)) {
		t.Fatalf("the record keeps no digests: %s", body)
	}
	var older olderSeen
	if err := json.Unmarshal(bytes.TrimPrefix(body, []byte(tombstoneFrom)), &older); err != nil {
		t.Fatalf("the older decoder refuses the record: %v", err)
	}
	if !maps.Equal(older.Stacks, seen.Stacks) || !maps.Equal(older.Spaces, seen.Spaces) || !maps.Equal(older.APIKeys, seen.APIKeys) {
		t.Errorf("the older decoder read %+v, want %+v", older, seen)
	}
}
