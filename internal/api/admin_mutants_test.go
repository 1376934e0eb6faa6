package api

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/apierror"
	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/config"
)

// TestIfMatchZeroNamesNoVersion: versions start at 1, so the entity tag "0" names none (412
// once checked, as catalog.NeverVersion) and a bare 0 is malformed (400). Neither may become
// ifMatch 0, which is no precondition at all: the change would apply unconditionally.
func TestIfMatchZeroNamesNoVersion(t *testing.T) {
	read := func(h string) (preconditions, error) {
		return ifMatch(&http.Request{Header: http.Header{"If-Match": {h}}})
	}
	if pre, err := read(`"0"`); err != nil || pre.ifMatch != catalog.NeverVersion || pre.oneOf != nil {
		t.Errorf(`If-Match "0" = %+v, %v; want NeverVersion`, pre, err)
	}
	var e *apierror.Error
	if pre, err := read(`0`); !errors.As(err, &e) || e.Code != apierror.CodeInvalidRequest {
		t.Errorf(`If-Match 0 = %+v, %v; want a 400`, pre, err)
	}
	if pre, err := read(`"0", "3"`); err != nil || pre.ifMatch != 3 || pre.oneOf != nil {
		t.Errorf(`If-Match "0", "3" = %+v, %v; want version 3 alone`, pre, err)
	}
}

// TestObjectValueIsCut: a whole object quoted in a change's detail is cut at maxObjectBytes
// (a rune boundary, then "…"), so a stack of many labels does not make an event of any size.
func TestObjectValueIsCut(t *testing.T) {
	many := make([]string, 400)
	for i := range many {
		many[i] = "label-é"
	}
	v := objectValue(config.Stack{ID: "s", Space: "a", Labels: many})
	if len(v) > maxObjectBytes+len("…") || !strings.HasSuffix(v, "…") {
		t.Errorf("objectValue of a stack of 400 labels is %d bytes (ends %q), want at most %d and cut", len(v), v[max(0, len(v)-8):], maxObjectBytes+len("…"))
	}
}

// TestCutKeepsAValueOfExactlyN: a value of exactly n bytes is not cut (no "…" added).
func TestCutKeepsAValueOfExactlyN(t *testing.T) {
	s := strings.Repeat("a", maxValueBytes)
	if got := cut(s, maxValueBytes); got != s {
		t.Errorf("cut of %d bytes at %d = %d bytes ending %q, want it whole", len(s), maxValueBytes, len(got), got[len(got)-4:])
	}
}

// TestChangedFieldsCutsTheOldValue: the value a field had is cut at maxValueBytes like the
// value it gets (the existing test only has a long new value).
func TestChangedFieldsCutsTheOldValue(t *testing.T) {
	many := make([]string, 100)
	for i := range many {
		many[i] = "label-x"
	}
	got := changedFields(config.Stack{ID: "s", Space: "a", Labels: many}, config.Stack{ID: "s", Space: "a"}, true)
	if len(got) != 1 || !strings.HasPrefix(got[0], "labels ") || !strings.HasSuffix(got[0], "… → none") {
		t.Fatalf("changedFields = %q, want labels cut → none", got)
	}
	if n := len(strings.TrimSuffix(strings.TrimPrefix(got[0], "labels "), "… → none")); n > maxValueBytes {
		t.Errorf("old labels value of %d bytes, want at most %d", n, maxValueBytes)
	}
}

// TestReplacingAnAPIKeyEndsNoRuns: only an API key's deletion ends the runs it started; a
// put that replaces it (new bindings) says nothing of runs.
func TestReplacingAnAPIKeyEndsNoRuns(t *testing.T) {
	ch := objectChange{res: catalog.Result{Before: config.APIKey{ID: "k"}},
		after: config.APIKey{ID: "k", Bindings: []config.Binding{{Role: "r", Space: "root"}}}}
	if got := runsEnded(ch); got != "" {
		t.Errorf("runsEnded of an API key replaced = %q, want none", got)
	}
}

// TestCutBacksOffToARuneStart: a cut that falls inside a multi-byte rune keeps only whole
// runes, so the event's detail stays valid UTF-8 (the existing test's labels happen to be cut on
// a rune boundary).
func TestCutBacksOffToARuneStart(t *testing.T) {
	if got := cut("ééé", 3); got != "é…" {
		t.Errorf(`cut("ééé", 3) = %q, want "é…"`, got)
	}
}

// TestChangedFieldsNamesAFieldEmptied: a field the change empties (left out of the object's
// JSON) is named as changed, with and without values: a label or an action taken away is in the
// trail, not "nothing".
func TestChangedFieldsNamesAFieldEmptied(t *testing.T) {
	before, after := config.Role{ID: "r", Actions: []string{"run:read"}}, config.Role{ID: "r"}
	if got := changedFields(before, after, false); len(got) != 1 || got[0] != "actions" {
		t.Errorf("changedFields of a role whose actions were all taken away = %q, want [actions]", got)
	}
	if got := changedFields(before, after, true); len(got) != 1 || got[0] != `actions ["run:read"] → none` {
		t.Errorf("changedFields with values = %q", got)
	}
}

// TestKeyCreatedIsCut: the bindings an API key's creation quotes are cut at maxObjectBytes.
func TestKeyCreatedIsCut(t *testing.T) {
	bindings := make([]config.Binding, 200)
	for i := range bindings {
		bindings[i] = config.Binding{Role: "deployer", Space: "space-with-a-long-name"}
	}
	got := keyCreated("k", bindings, true)
	prefix := `created API key "k" with 200 binding(s): `
	if !strings.HasPrefix(got, prefix) || len(got) > len(prefix)+maxObjectBytes+len("…") || !strings.HasSuffix(got, "…") {
		t.Errorf("keyCreated of 200 bindings is %d bytes, want at most %d and cut", len(got), len(prefix)+maxObjectBytes+len("…"))
	}
}

// TestSpaceDeletionShownOnlyUnderItsParent: a space's deletion quotes its values only when
// filed also under the parent that held it, not under any other space (latent today: ChangePlace
// files a deletion under the parent only; this pins the defensive check).
func TestSpaceDeletionShownOnlyUnderItsParent(t *testing.T) {
	for _, also := range [][]string{{"other"}, {"p", "other"}} {
		place := catalog.EventPlace{Space: "x", Also: also}
		if valuesShown(place, config.Space{ID: "x", Parent: "p"}, nil) {
			t.Errorf("a space's deletion filed also under %v quotes its values: only its parent p may read them", also)
		}
	}
}
