package catalog

import (
	"slices"
	"testing"

	"github.com/brokerhq/broker/internal/config"
)

// TestWriteBackFiledWhereTheAPIFilesIt: the event of a change written back is filed where the
// admin API files that change's event, so that the auditors of its space see it, and those of
// no other: a space under its own id, a stack or an integration under its space (and the space
// a move leaves), an attachment under its stack's space, an API key under every bound space; a
// deletion where the store still holds the object, else where its tombstone says (a deleted
// space under its own id and its parent); root for a role, and for a deletion whose tombstone
// keeps no place. On the old code every such event was filed under root.
func TestWriteBackFiledWhereTheAPIFilesIt(t *testing.T) {
	f := crossingFile()
	f.Spaces = append(f.Spaces, config.Space{ID: "prod-eu", Parent: "prod"})
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
	integ := config.Integration{ID: "i", Space: "prod", AWS: &config.AWS{RoleARN: "arn:aws:iam::123456789012:role/i"}}
	key := config.APIKey{ID: "k", Bindings: []config.Binding{{Role: "admin", Space: "prod-eu"}, {Role: "admin", Space: "prod"}, {Role: "x", Space: "prod-eu"}}}
	for _, tc := range []struct {
		name   string
		ch     Change
		before any
		want   EventPlace
	}{
		{"a space", put(config.Space{ID: "team", Parent: "prod"}), nil, EventPlace{Space: "team"}},
		{"a space moved", put(config.Space{ID: "team", Parent: "prod-eu"}), config.Space{ID: "team", Parent: "prod"}, EventPlace{Space: "team", Also: []string{"prod"}}},
		{"a stack", put(config.Stack{ID: "s", Space: "prod-eu"}), nil, EventPlace{Space: "prod-eu", Stack: "s"}},
		{"a stack moved", put(config.Stack{ID: "s", Space: "prod-eu"}), config.Stack{ID: "s", Space: "prod"}, EventPlace{Space: "prod-eu", Stack: "s", Also: []string{"prod"}}},
		{"an integration", put(integ), nil, EventPlace{Space: "prod", Integration: "i"}},
		{"an attachment", put(config.Attachment{Stack: "vpc", Integration: "aws-root", Read: true}), nil, EventPlace{Space: "prod", Stack: "vpc", Integration: "aws-root"}},
		{"an API key", put(key), nil, EventPlace{Space: "prod-eu", Also: []string{"prod"}}},
		{"a role", put(config.Role{ID: "r", Actions: []string{config.ActionRunRead}}), nil, EventPlace{Space: config.RootSpace}},
		{"a deleted stack", gone(KindStack, "s", "prod-eu"), nil, EventPlace{Space: "prod-eu", Stack: "s"}},
		{"a deleted space", gone(KindSpace, "team", "prod"), nil, EventPlace{Space: "team", Also: []string{"prod"}}},
		{"a deleted attachment", gone(KindAttachment, AttachmentID("vpc", "aws-root"), ""), nil, EventPlace{Space: "prod", Stack: "vpc", Integration: "aws-root"}},
		{"a deleted integration", gone(KindIntegration, "i", ""), nil, EventPlace{Space: config.RootSpace, Integration: "i"}},
		{"a deleted integration the store still holds", gone(KindIntegration, "i", ""), integ, EventPlace{Space: "prod", Integration: "i"}},
		{"a deleted API key the store still holds", gone(KindAPIKey, "k", ""), key, EventPlace{Space: "prod-eu", Also: []string{"prod"}}},
		{"a deleted API key", gone(KindAPIKey, "k", ""), nil, EventPlace{Space: config.RootSpace}},
		{"a deleted stack whose tombstone keeps no place", gone(KindStack, "old", ""), nil, EventPlace{Space: config.RootSpace, Stack: "old"}},
	} {
		got := filedAt(tc.ch, tc.before, in)
		if got.Space != tc.want.Space || got.Stack != tc.want.Stack || got.Integration != tc.want.Integration || !slices.Equal(got.Also, tc.want.Also) {
			t.Errorf("%s: filed at %+v, want %+v", tc.name, got, tc.want)
		}
	}
	if got := filedAt(put(config.Attachment{Stack: "vpc", Integration: "aws-root"}), nil, nil); got.Space != config.RootSpace {
		t.Errorf("an attachment with no catalog to place its stack: filed at %+v, want root", got)
	}
}
