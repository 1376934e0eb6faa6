package api

import (
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/config"
)

// TestChangeDetailValues: a change's detail quotes each changed field's values, cut at
// maxValueBytes on a rune boundary, and never an API key's secret hash.
func TestChangeDetailValues(t *testing.T) {
	many := make([]string, 100)
	for i := range many {
		many[i] = "label-é"
	}
	got := changedFields(config.Stack{ID: "s", Space: "a"}, config.Stack{ID: "s", Space: "b", Labels: many}, true)
	if len(got) != 2 || got[1] != `space "a" → "b"` || !strings.HasPrefix(got[0], `labels none → ["label-é",`) || !strings.HasSuffix(got[0], "…") {
		t.Fatalf("changedFields = %q", got)
	}
	if n := len(strings.TrimSuffix(strings.TrimPrefix(got[0], "labels none → "), "…")); n > maxValueBytes || n < maxValueBytes-2 {
		t.Errorf("labels value of %d bytes, want %d less at most a rune's other bytes", n, maxValueBytes)
	}
	if !strings.Contains(strings.TrimSuffix(got[0], "…"), "é") || strings.ContainsRune(got[0], '\uFFFD') {
		t.Errorf("value cut inside a rune: %q", got[0])
	}
	key := config.APIKey{ID: "k", SecretSHA256: "0123abcd", Bindings: []config.Binding{{Role: "r", Space: "root"}}}
	if v := objectValue(key); strings.Contains(v, "0123abcd") || !strings.Contains(v, `"role":"r"`) {
		t.Errorf("objectValue(API key) = %s", v)
	}
	if got := changedFields(key, config.APIKey{ID: "k", SecretSHA256: "fedc9876", Bindings: key.Bindings}, true); len(got) != 1 || got[0] != "nothing" {
		t.Errorf("changedFields of a new secret only = %q, want nothing (the hash is never shown)", got)
	}
	if got := changedFields(config.Role{ID: "r", Actions: []string{"run:read"}}, config.Role{ID: "r", Actions: []string{"run:read"}}, true); len(got) != 1 || got[0] != "nothing" {
		t.Errorf("changedFields of equal roles = %q", got)
	}
}

// TestRunsEndedByAChange: the changes that end runs say so in their detail, the others do not.
func TestRunsEndedByAChange(t *testing.T) {
	st := config.Stack{ID: "s", Space: "a"}
	sp := config.Space{ID: "x", Parent: "root"}
	tests := []struct {
		name          string
		before, after any
		want          string
	}{
		{"stack deleted", st, nil, "the stack's unfinished runs end"},
		{"stack moved", st, config.Stack{ID: "s", Space: "b"}, "the stack's unfinished runs end"},
		{"stack relabelled", st, config.Stack{ID: "s", Space: "a", Labels: []string{"l"}}, ""},
		{"space moved", sp, config.Space{ID: "x", Parent: "other"}, "the unfinished runs of the stacks in and below it end"},
		{"space renamed template", sp, config.Space{ID: "x", Parent: "root", SubjectTemplate: "t"}, ""},
		{"API key deleted", config.APIKey{ID: "k"}, nil, "the unfinished runs it started end"},
		{"role deleted", config.Role{ID: "r"}, nil, ""},
	}
	for _, tt := range tests {
		ch := objectChange{res: catalog.Result{Before: tt.before}, after: tt.after}
		if got := runsEnded(ch); got != tt.want {
			t.Errorf("%s: runsEnded = %q, want %q", tt.name, got, tt.want)
		}
	}
}

// TestValuesShownOnlyWhereEveryListingMayReadThem: values are quoted only for an event filed
// under one space, or a space's deletion filed also under its parent; a move, or an API key bound
// on several spaces, names fields and counts only.
func TestValuesShownOnlyWhereEveryListingMayReadThem(t *testing.T) {
	tests := []struct {
		name          string
		place         catalog.EventPlace
		before, after any
		want          bool
	}{
		{"one space", catalog.EventPlace{Space: "a"}, config.Stack{ID: "s", Space: "a"}, config.Stack{ID: "s", Space: "a"}, true},
		{"a stack moved", catalog.EventPlace{Space: "b", Also: []string{"a"}}, config.Stack{ID: "s", Space: "a"}, config.Stack{ID: "s", Space: "b"}, false},
		{"a key on two spaces", catalog.EventPlace{Space: "a", Also: []string{"b"}}, nil, config.APIKey{ID: "k"}, false},
		{"a space deleted, filed under its parent too", catalog.EventPlace{Space: "x", Also: []string{"p"}}, config.Space{ID: "x", Parent: "p"}, nil, true},
		{"a space moved", catalog.EventPlace{Space: "x", Also: []string{"p"}}, config.Space{ID: "x", Parent: "p"}, config.Space{ID: "x", Parent: "q"}, false},
	}
	for _, tt := range tests {
		if got := valuesShown(tt.place, tt.before, tt.after); got != tt.want {
			t.Errorf("%s: valuesShown = %v, want %v", tt.name, got, tt.want)
		}
	}
	if got := changedFields(config.Stack{ID: "s", Space: "a"}, config.Stack{ID: "s", Space: "b"}, false); len(got) != 1 || got[0] != "space" {
		t.Errorf("changedFields without values = %q, want [space]", got)
	}
}
