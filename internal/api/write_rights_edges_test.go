package api

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"slices"
	"testing"

	"github.com/brokerhq/broker/internal/access"
	"github.com/brokerhq/broker/internal/apierror"
	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/config"
)

// writeRightsObjects: root → prod → team (inheriting); one role per action set; key "half" holds
// space:admin and run:create (not run:update) on team, key "full" both run rights too, key
// "root-admin" space:admin alone on root.
func writeRightsObjects() catalog.Objects {
	hash := func(s string) string { sum := sha256.Sum256([]byte(s)); return hex.EncodeToString(sum[:]) }
	return catalog.Objects{
		Spaces: []config.Space{{ID: "root"}, {ID: "prod", Parent: "root", Inherit: true}, {ID: "team", Parent: "prod", Inherit: true}},
		Roles: []config.Role{
			{ID: "admin-create", Actions: []string{config.ActionSpaceAdmin, config.ActionRunCreate}},
			{ID: "admin-run", Actions: []string{config.ActionSpaceAdmin, config.ActionRunCreate, config.ActionRunUpdate}},
			{ID: "admin-only", Actions: []string{config.ActionSpaceAdmin}},
		},
		APIKeys: []config.APIKey{
			{ID: "half", SecretSHA256: hash("half"), Bindings: []config.Binding{{Role: "admin-create", Space: "team"}}},
			{ID: "full", SecretSHA256: hash("full"), Bindings: []config.Binding{{Role: "admin-run", Space: "team"}}},
			{ID: "root-admin", SecretSHA256: hash("root-admin"), Bindings: []config.Binding{{Role: "admin-only", Space: "root"}}},
		},
	}
}

// writeRightsCatalog builds the catalog of o, failing t if it does not build.
func writeRightsCatalog(t *testing.T, o catalog.Objects) *catalog.Catalog {
	t.Helper()
	c, err := catalog.Build(catalog.Input{File: o})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// writeRightsAWS is an AWS integration of space assuming the role named role.
func writeRightsAWS(id, space, role string) config.Integration {
	return config.Integration{ID: id, Space: space, AWS: &config.AWS{RoleARN: "arn:aws:iam::123456789012:role/" + role}}
}

// TestReadIntoWriteNeedsBothRunRights: letting read-scope tokens reach a cloud identity
// that stacks are attached to for write takes run:create and run:update where those stacks are:
// a key holding only one of them is refused, as one holding neither is.
func TestReadIntoWriteNeedsBothRunRights(t *testing.T) {
	c := writeRightsCatalog(t, writeRightsObjects())
	for _, tc := range []struct {
		key     string
		refused bool
	}{{"half", true}, {"full", false}} {
		err := requireReadIntoWriteRights(c, access.Principal{KeyID: tc.key}, []string{"team"})
		if (err != nil) != tc.refused {
			t.Errorf("key %s: %v, want refused %v", tc.key, err, tc.refused)
		}
		err = requireWriteRights(c, access.Principal{KeyID: tc.key}, []string{"team"})
		if (err != nil) != tc.refused {
			t.Errorf("key %s directing write tokens: %v, want refused %v", tc.key, err, tc.refused)
		}
	}
}

// TestExistingReadIntoWriteBlocksNothing: a read pair that already reaches a write identity
// before a change is not the change's doing: an unrelated change (a new stack elsewhere) lets no
// new read pair reach it, and asks no run rights for it.
func TestExistingReadIntoWriteBlocksNothing(t *testing.T) {
	o := writeRightsObjects()
	o.Stacks = []config.Stack{{ID: "writer", Space: "team"}, {ID: "reader", Space: "team"}}
	o.Integrations = []config.Integration{writeRightsAWS("w", "team", "shared"), writeRightsAWS("r", "team", "shared")}
	o.Attachments = []config.Attachment{{Stack: "writer", Integration: "w", Write: true}, {Stack: "reader", Integration: "r", Read: true}}
	before := writeRightsCatalog(t, o)
	if got := newReadIntoWriteSpaces(writeRightsCatalog(t, catalog.Objects{Spaces: o.Spaces, Roles: o.Roles, APIKeys: o.APIKeys}), before, nil); !slices.Equal(got, []string{"team"}) {
		t.Fatalf("the read pair made from nothing: %v, want [team]: the test proves nothing", got)
	}
	o.Stacks = append(slices.Clone(o.Stacks), config.Stack{ID: "unrelated", Space: "prod"})
	if got := newReadIntoWriteSpaces(before, writeRightsCatalog(t, o), nil); len(got) != 0 {
		t.Errorf("an unrelated stack created beside an existing read pair asks run rights in %v, want none", got)
	}
}

// TestIntegrationMoveNeedsRunRightsOnBothSpaces: moving an integration that stacks hold for
// write from one space to another directs their write-scope tokens from both: the key needs the
// run rights on the old space as on the new one.
func TestIntegrationMoveNeedsRunRightsOnBothSpaces(t *testing.T) {
	o := writeRightsObjects()
	o.Stacks = []config.Stack{{ID: "writer", Space: "team"}}
	o.Integrations = []config.Integration{writeRightsAWS("w", "prod", "w")}
	o.Attachments = []config.Attachment{{Stack: "writer", Integration: "w", Write: true}}
	c := writeRightsCatalog(t, o)
	got := integrationWriteSpaces(c, "w", writeRightsAWS("w", "team", "w"), writeRightsAWS("w", "prod", "w"))
	slices.Sort(got)
	if !slices.Equal(got, []string{"prod", "team"}) {
		t.Errorf("moving an integration attached for write from prod to team asks run rights in %v, want [prod team]", got)
	}
}

// TestStackMoveAcrossTemplatesNeedsRunRightsOnBoth: a stack moved into a space of another
// subject template directs its write-scope tokens from both places (the trust policies printed
// for its old subs outlive any attachment): the key needs the run rights where it is and where it
// goes.
func TestStackMoveAcrossTemplatesNeedsRunRightsOnBoth(t *testing.T) {
	o := writeRightsObjects()
	o.Spaces = append(slices.Clone(o.Spaces), config.Space{ID: "other", Parent: "prod", SubjectTemplate: "other:{callerId}:{scope}"})
	o.Stacks = []config.Stack{{ID: "app", Space: "team"}}
	c := writeRightsCatalog(t, o)
	got := stackWriteSpaces(c, "app", config.Stack{ID: "app", Space: "other"}, config.Stack{ID: "app", Space: "team"})
	slices.Sort(got)
	if !slices.Equal(got, []string{"other", "team"}) {
		t.Errorf("moving stack app from team to a space of another template asks run rights in %v, want [other team]", got)
	}
}

// TestSpaceMoveCountsStacksDeepInItsSubtree: a space moved carries every stack of its
// subtree, not only its own: when a stack two levels down holds an attachment for write, the key
// needs the run rights under the new parent.
func TestSpaceMoveCountsStacksDeepInItsSubtree(t *testing.T) {
	o := writeRightsObjects()
	o.Spaces = append(slices.Clone(o.Spaces),
		config.Space{ID: "mover", Parent: "team", Inherit: true},
		config.Space{ID: "deep", Parent: "mover", Inherit: true},
		config.Space{ID: "elsewhere", Parent: "prod", Inherit: true})
	o.Stacks = []config.Stack{{ID: "app", Space: "deep"}}
	o.Integrations = []config.Integration{writeRightsAWS("w", "prod", "w")}
	o.Attachments = []config.Attachment{{Stack: "app", Integration: "w", Write: true}}
	c := writeRightsCatalog(t, o)
	old := config.Space{ID: "mover", Parent: "team", Inherit: true}
	got := spaceWriteSpaces(c, "mover", config.Space{ID: "mover", Parent: "elsewhere", Inherit: true}, old)
	if !slices.Equal(got, []string{"elsewhere"}) {
		t.Errorf("moving space mover (whose subtree's stack holds a write attachment) asks run rights in %v, want [elsewhere]", got)
	}
}

// TestIfMatchMalformed: an If-Match entity tag that is not well formed (a quote inside the
// quoted tag, or a "*" that is not alone) is a bad request (400), not a precondition that merely
// fails (412): the caller is told its header is wrong.
func TestIfMatchMalformed(t *testing.T) {
	for _, h := range []string{`"1"2"`, `"*"`, `W/"1"2"`} {
		_, err := ifMatch(&http.Request{Header: http.Header{"If-Match": {h}}})
		var e *apierror.Error
		if !errors.As(err, &e) || e.Code != apierror.CodeInvalidRequest {
			t.Errorf("If-Match %s: %v, want a 400", h, err)
		}
	}
}

// TestEachNewReadPairCounts: a cloud identity that one stack already reaches with read tokens
// beside a writer is not open to every other stack: each new read pair to it asks the run rights
// where the writers are.
func TestEachNewReadPairCounts(t *testing.T) {
	o := writeRightsObjects()
	o.Stacks = []config.Stack{{ID: "writer", Space: "team"}, {ID: "reader", Space: "team"}, {ID: "second", Space: "prod"}}
	o.Integrations = []config.Integration{writeRightsAWS("w", "team", "shared"), writeRightsAWS("r", "team", "shared"), writeRightsAWS("r2", "prod", "shared")}
	o.Attachments = []config.Attachment{{Stack: "writer", Integration: "w", Write: true}, {Stack: "reader", Integration: "r", Read: true}}
	before := writeRightsCatalog(t, o)
	o.Attachments = append(slices.Clone(o.Attachments), config.Attachment{Stack: "second", Integration: "r2", Read: true})
	if got := newReadIntoWriteSpaces(before, writeRightsCatalog(t, o), nil); !slices.Equal(got, []string{"team"}) {
		t.Errorf("a second stack attached for read to the writer's identity asks run rights in %v, want [team]", got)
	}
}
