package api

import (
	"slices"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/access"
	"github.com/brokerhq/broker/internal/config"
)

// TestWriteSpacesOfPuts pins where a PUT directs write-scope tokens (so needs the run
// rights): an integration created with an autoattach rule for write, in its space; an
// integration attached for read only moved, nowhere; a stack moved while it holds a write
// attachment, where it goes; a stack relabelled under a rule for write, in its space; a space
// created with its own subject template, on its parent; a space given another template, on
// itself; deleting a space with its own template, on itself.
// Guards against: admin_write.go:integrationWriteSpaces ignores autoattach rules for write
// Guards against: admin_write.go:attachedForWrite counts read attachments
// Guards against: admin_write.go:stackWriteSpaces ignores a moved stack's write attachment
// Guards against: admin_write.go:stackWriteSpaces ignores a relabel in place
// Guards against: admin_write.go:spaceWriteSpaces ignores a new space's own template
// Guards against: admin_write.go:spaceWriteSpaces ignores a template change
// Guards against: admin_write.go:spaceDeleteWriteSpaces asks nothing
func TestWriteSpacesOfPuts(t *testing.T) {
	o := writeRightsObjects()
	o.Spaces = append(slices.Clone(o.Spaces), config.Space{ID: "side", Parent: "prod", Inherit: true})
	wo := writeRightsAWS("wo", "prod", "wo")
	wo.Autoattach = []config.Autoattach{{Label: "w", Write: true}}
	o.Integrations = []config.Integration{wo, writeRightsAWS("w", "prod", "w"), writeRightsAWS("r", "prod", "r")}
	o.Stacks = []config.Stack{{ID: "writer", Space: "team"}, {ID: "plain", Space: "team"}, {ID: "reader", Space: "team"}}
	o.Attachments = []config.Attachment{{Stack: "writer", Integration: "w", Write: true}, {Stack: "reader", Integration: "r", Read: true}}
	c := writeRightsCatalog(t, o)
	rule := writeRightsAWS("new-rule", "team", "n")
	rule.Autoattach = []config.Autoattach{{Label: "x", Write: true}}
	tmpl := "custom:{callerId}:{scope}"
	for _, tc := range []struct {
		name string
		got  []string
		want []string
	}{
		{"integration created with a write rule", integrationWriteSpaces(c, "new-rule", rule, nil), []string{"team"}},
		{"read-only integration moved", integrationWriteSpaces(c, "r", writeRightsAWS("r", "team", "r"), writeRightsAWS("r", "prod", "r")), nil},
		{"stack holding a write attachment moved", stackWriteSpaces(c, "writer", config.Stack{ID: "writer", Space: "side"}, o.Stacks[0]), []string{"side"}},
		{"stack relabelled under a write rule", stackWriteSpaces(c, "plain", config.Stack{ID: "plain", Space: "team", Labels: []string{"w"}}, o.Stacks[1]), []string{"team"}},
		{"space created with its own template", spaceWriteSpaces(c, "fresh", config.Space{ID: "fresh", Parent: "team", SubjectTemplate: tmpl}, nil), []string{"team"}},
		{"space given another template", spaceWriteSpaces(c, "side", config.Space{ID: "side", Parent: "prod", Inherit: true, SubjectTemplate: tmpl}, o.Spaces[3]), []string{"side"}},
		{"space with its own template deleted", spaceDeleteWriteSpaces(config.Space{ID: "side", Parent: "prod", SubjectTemplate: tmpl}), []string{"side"}},
	} {
		got := slices.Clone(tc.got)
		slices.Sort(got)
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: run rights asked in %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestMovesOfObjects pins the reach a move changes: a space moved to another parent takes
// its bindings from itself to the new parent, a stack moved goes from its space to the new one,
// and a PUT that keeps the place moves nothing.
// Guards against: admin_write.go:spaceMove moves nothing
// Guards against: admin_write.go:stackMove moves nothing
func TestMovesOfObjects(t *testing.T) {
	if got, want := spaceMove(config.Space{ID: "s", Parent: "b"}, config.Space{ID: "s", Parent: "a"}), (reachMove{from: "s", to: "b", carries: true}); got != want {
		t.Errorf("space s moved from a to b: %+v, want %+v", got, want)
	}
	if got, want := stackMove(config.Stack{ID: "s", Space: "b"}, config.Stack{ID: "s", Space: "a"}), (reachMove{from: "a", to: "b"}); got != want {
		t.Errorf("stack s moved from a to b: %+v, want %+v", got, want)
	}
	if got := stackMove(config.Stack{ID: "s", Space: "a", Labels: []string{"x"}}, config.Stack{ID: "s", Space: "a"}); got != (reachMove{}) {
		t.Errorf("stack s relabelled in place: %+v, want no move", got)
	}
}

// TestMoveGivesOnlyWhatTheMoverHolds pins requireMoveGivesNothing: a move is allowed when
// what it gives keys bound where the object goes is held by the mover where the object is, and
// when the keys bound where it goes hold the same where it is; a space move that gives nothing
// but carries bindings holding what the mover lacks where it goes is refused.
// Guards against: admin_write.go:requireMoveGivesNothing counts what the mover holds in the
// old place
// Guards against: admin_write.go:requireMoveGivesNothing counts what a key holds in the old
// place
// Guards against: admin_write.go:requireMoveGivesNothing skips requireNothingCarried
func TestMoveGivesOnlyWhatTheMoverHolds(t *testing.T) {
	o := writeRightsObjects()
	o.Spaces = append(slices.Clone(o.Spaces), config.Space{ID: "a", Parent: "team"}, config.Space{ID: "b", Parent: "team"})
	if err := requireMoveGivesNothing(writeRightsCatalog(t, o), access.Principal{KeyID: "half"}, reachMove{from: "a", to: "b"}); err != nil {
		t.Errorf("half moving a stack from a to b, both covered alike by every key: %v, want allowed", err)
	}
	withB := o
	withB.APIKeys = append(slices.Clone(o.APIKeys), config.APIKey{ID: "bkey", SecretSHA256: strings.Repeat("c", 64),
		Bindings: []config.Binding{{Role: "admin-run", Space: "b"}}})
	if err := requireMoveGivesNothing(writeRightsCatalog(t, withB), access.Principal{KeyID: "full"}, reachMove{from: "a", to: "b"}); err != nil {
		t.Errorf("full (run rights on team) moving a stack from a to b, where bkey holds what full holds at a: %v, want allowed", err)
	}
	carried := writeRightsObjects()
	carried.Spaces = append(slices.Clone(carried.Spaces),
		config.Space{ID: "mover", Parent: "team"}, config.Space{ID: "sub", Parent: "mover"}, config.Space{ID: "dest", Parent: "prod"})
	carried.APIKeys = append(slices.Clone(carried.APIKeys), config.APIKey{ID: "helper", SecretSHA256: strings.Repeat("b", 64),
		Bindings: []config.Binding{{Role: "admin-run", Space: "sub"}}})
	if err := requireMoveGivesNothing(writeRightsCatalog(t, carried), access.Principal{KeyID: "half"}, reachMove{from: "mover", to: "dest", carries: true}); err == nil {
		t.Error("half moving space mover under dest, carrying helper's run:update that half lacks at dest: allowed, want refused")
	}
}

// TestNarrowedWriteAttachmentIsReadIntoWrite pins that narrowing a stack's write attachment
// to read lets its read-scope tokens reach the cloud identity its write runs took: the change
// takes the run rights where the stack is.
// Guards against: admin_write.go:newReadIntoWriteSpaces counts only the writers after the change
func TestNarrowedWriteAttachmentIsReadIntoWrite(t *testing.T) {
	o := writeRightsObjects()
	o.Stacks = []config.Stack{{ID: "app", Space: "team"}}
	o.Integrations = []config.Integration{writeRightsAWS("w", "team", "w")}
	o.Attachments = []config.Attachment{{Stack: "app", Integration: "w", Write: true}}
	before := writeRightsCatalog(t, o)
	o.Attachments = []config.Attachment{{Stack: "app", Integration: "w", Read: true}}
	if got := newReadIntoWriteSpaces(before, writeRightsCatalog(t, o), nil); !slices.Equal(got, []string{"team"}) {
		t.Errorf("narrowing app's write attachment to read asks run rights in %v, want [team]", got)
	}
}
