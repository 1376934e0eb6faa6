package catalog

import (
	"slices"
	"testing"

	"github.com/brokerhq/broker/internal/config"
)

// TestWriteBackFiledWhereTheAPIFilesIt: the event of a change written back is filed where the
// admin API files that object's changes, so that the auditors of its space see it: a space's
// own id, a stack's space, an integration's space, an attachment's stack's space, an API key's
// first binding's space; a deleted stack's space and a deleted space's parent from their
// tombstones; root for a role, and for a deletion whose tombstone keeps no place. On the old
// code every such event was filed under root.
func TestWriteBackFiledWhereTheAPIFilesIt(t *testing.T) {
	f := crossingFile()
	f.Stacks = []config.Stack{{ID: "vpc", Space: "prod"}}
	in, err := Build(Input{File: f})
	if err != nil {
		t.Fatal(err)
	}
	put := func(obj any) Change {
		r, err := RefOf(obj)
		if err != nil {
			t.Fatal(err)
		}
		body, err := config.EncodeJSON(obj)
		if err != nil {
			t.Fatal(err)
		}
		return Change{Record: Record{Ref: r, Version: 1, Body: body}}
	}
	gone := func(kind Kind, id, place string) Change {
		return Change{Record: Record{Ref: Ref{kind, id}, Version: 2, Body: tombstoneBody(place)}}
	}
	for _, tc := range []struct {
		name         string
		ch           Change
		space, stack string
	}{
		{"a space", put(config.Space{ID: "team", Parent: "prod"}), "team", ""},
		{"a stack", put(config.Stack{ID: "s", Space: "prod-eu"}), "prod-eu", "s"},
		{"an integration", put(config.Integration{ID: "i", Space: "prod", AWS: &config.AWS{RoleARN: "arn:aws:iam::123456789012:role/i"}}), "prod", ""},
		{"an attachment", put(config.Attachment{Stack: "vpc", Integration: "aws-root", Read: true}), "prod", "vpc"},
		{"an API key", put(config.APIKey{ID: "k", Bindings: []config.Binding{{Role: "admin", Space: "prod-eu"}, {Role: "admin", Space: "prod"}}}), "prod-eu", ""},
		{"a role", put(config.Role{ID: "r", Actions: []string{config.ActionRunRead}}), config.RootSpace, ""},
		{"a deleted stack", gone(KindStack, "s", "prod-eu"), "prod-eu", "s"},
		{"a deleted space", gone(KindSpace, "team", "prod"), "prod", ""},
		{"a deleted attachment", gone(KindAttachment, AttachmentID("vpc", "aws-root"), ""), "prod", "vpc"},
		{"a deleted API key", gone(KindAPIKey, "k", ""), config.RootSpace, ""},
		{"a deleted stack whose tombstone keeps no place", gone(KindStack, "old", ""), config.RootSpace, "old"},
	} {
		if space, stack, _ := filedAt(tc.ch, in); space != tc.space || stack != tc.stack {
			t.Errorf("%s: filed at %q (stack %q), want %q (stack %q)", tc.name, space, stack, tc.space, tc.stack)
		}
	}
	key := put(config.APIKey{ID: "k", Bindings: []config.Binding{{Role: "admin", Space: "prod-eu"}, {Role: "admin", Space: "prod"}, {Role: "x", Space: "prod-eu"}}})
	if _, _, also := filedAt(key, in); !slices.Equal(also, []string{"prod"}) {
		t.Errorf("an API key bound on prod-eu and prod: also filed under %q, want [prod]", also)
	}
	if space, _, _ := filedAt(put(config.Attachment{Stack: "vpc", Integration: "aws-root"}), nil); space != config.RootSpace {
		t.Errorf("an attachment with no catalog to place its stack: filed at %q, want root", space)
	}
}
