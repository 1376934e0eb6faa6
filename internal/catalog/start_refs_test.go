package catalog

import (
	"slices"
	"testing"
)

// TestStartRefs: the start-up warning names tombstones as left and version raises as changed,
// and never the record of the file as seen.
func TestStartRefs(t *testing.T) {
	changes := []Change{
		{Record: Record{Ref: Ref{Kind: KindStack, ID: "gone"}, Body: tombstoneBody("prod")}},
		{Record: Record{Ref: Ref{Kind: KindRole, ID: "gone-too"}, Body: tombstoneBody("")}},
		{Record: Record{Ref: Ref{Kind: KindStack, ID: "edited"}, Body: []byte(`{"id":"edited","space":"prod"}`)}},
		{Record: Record{Ref: seenRef, Body: []byte(`{}`)}},
	}
	left, changed := startRefs(changes)
	if want := []string{"stack gone", "role gone-too"}; !slices.Equal(left, want) {
		t.Errorf("left %q, want %q", left, want)
	}
	if want := []string{"stack edited"}; !slices.Equal(changed, want) {
		t.Errorf("changed %q, want %q", changed, want)
	}
}
