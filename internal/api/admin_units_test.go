package api

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/access"
	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/config"
)

// TestIfMatchForms pins how If-Match is read: a weak tag or a quoted non-version (a
// leading zero, a comma inside the quotes) never matches (NeverVersion, 412 once checked); one
// version is ifMatch alone; a weak tag without quotes, a quoted tag holding '*', and a list of
// only commas are 400.
// Guards against: admin_preconditions.go:entityTagVersion takes a weak tag as its version
// Guards against: admin_preconditions.go:entityTagVersion takes "03" as version 3
// Guards against: admin_preconditions.go:listItems splits at a comma inside quotes
// Guards against: admin_preconditions.go:entityTagVersion accepts W/3 without quotes
// Guards against: admin_preconditions.go:entityTagVersion accepts '*' inside a quoted tag
// Guards against: admin_preconditions.go:ifMatch takes a list of only commas as NeverVersion
// Guards against: admin_preconditions.go:ifMatch answers one version as a one-element oneOf
func TestIfMatchForms(t *testing.T) {
	for _, tc := range []struct {
		header string
		want   preconditions
		bad    bool
	}{
		{header: `W/"3"`, want: preconditions{ifMatch: catalog.NeverVersion}},
		{header: `"03"`, want: preconditions{ifMatch: catalog.NeverVersion}},
		{header: `"a,3"`, want: preconditions{ifMatch: catalog.NeverVersion}},
		{header: `"3"`, want: preconditions{ifMatch: 3}},
		{header: `"3", "4"`, want: preconditions{oneOf: []int64{3, 4}}},
		{header: `W/3`, bad: true},
		{header: `"3*"`, bad: true},
		{header: ` , ,`, bad: true},
	} {
		pre, err := ifMatch(&http.Request{Header: http.Header{"If-Match": {tc.header}}})
		if tc.bad {
			if err == nil {
				t.Errorf("If-Match %s = %+v, want a 400", tc.header, pre)
			}
			continue
		}
		if err != nil || pre.ifMatch != tc.want.ifMatch || !slices.Equal(pre.oneOf, tc.want.oneOf) {
			t.Errorf("If-Match %s = %+v, %v; want %+v", tc.header, pre, err, tc.want)
		}
	}
}

// TestTemplateCapBoundary pins the catalog-wide cap on distinct subject templates the API
// adds: a new one is taken while the spaces hold one fewer than the cap (the default counting
// as one), and refused once they hold the cap; a template the spaces hold is taken even when
// they hold more than the cap.
// Guards against: admin_templates.go:newTemplateFits refuses at the cap instead of past it
// Guards against: admin_templates.go:newTemplateFits refuses a held template once past the cap
func TestTemplateCapBoundary(t *testing.T) {
	build := func(distinct int) *catalog.Catalog {
		o := writeRightsObjects()
		for i := range distinct - 1 { // the default is one
			o.Spaces = append(o.Spaces, config.Space{ID: fmt.Sprintf("s%d", i), Parent: "root", SubjectTemplate: ownTemplate(i)})
		}
		return writeRightsCatalog(t, o)
	}
	put := config.Space{ID: "new", Parent: "root", SubjectTemplate: ownTemplate(900)}
	if err := newTemplateFits(build(config.MaxSubjectTemplates-1), "new", put); err != nil {
		t.Errorf("a new template while the spaces hold %d: %v, want taken", config.MaxSubjectTemplates-1, err)
	}
	if err := newTemplateFits(build(config.MaxSubjectTemplates), "new", put); err == nil {
		t.Errorf("a new template while the spaces hold %d: taken, want refused", config.MaxSubjectTemplates)
	}
	// Past the cap already (the file is not capped): a template they hold is still taken.
	held := config.Space{ID: "new", Parent: "root", SubjectTemplate: ownTemplate(0)}
	if err := newTemplateFits(build(config.MaxSubjectTemplates+2), "new", held); err != nil {
		t.Errorf("a template the spaces hold while they hold %d: %v, want taken", config.MaxSubjectTemplates+2, err)
	}
}

// TestChangeEventDetail pins what a change's audit detail may hold: never an API key's
// secret hash, values only when the event is filed under one space, and that a stack moved
// says its runs end while one relabelled in place does not.
// Guards against: admin_events.go:auditable keeps the secret hash
// Guards against: admin_events.go:valuesShown shows values of a move filed under two spaces
// Guards against: admin_events.go:runsEnded misses a stack's move
func TestChangeEventDetail(t *testing.T) {
	hash := strings.Repeat("ab", 32)
	key := config.APIKey{ID: "k", SecretSHA256: hash, Bindings: []config.Binding{{Role: "r", Space: "s"}}}
	if v := objectValue(key); strings.Contains(v, hash) {
		t.Errorf("objectValue of an API key = %s, holds its secret hash", v)
	}
	if got := strings.Join(changedFields(nil, key, true), ", "); strings.Contains(got, hash) {
		t.Errorf("changedFields of an API key = %s, holds its secret hash", got)
	}
	moved := catalog.EventPlace{Space: "b", Also: []string{"a"}}
	if valuesShown(moved, config.Stack{ID: "x", Space: "a"}, config.Stack{ID: "x", Space: "b"}) {
		t.Error("a stack move filed under two spaces shows its values")
	}
	p := access.Principal{KeyID: "boss"}
	ev := changeEvent(p, objectChange{ref: catalog.Ref{Kind: catalog.KindStack, ID: "x"}, action: "stack.put", place: moved,
		res: catalog.Result{Before: config.Stack{ID: "x", Space: "a"}, Version: 2}, after: config.Stack{ID: "x", Space: "b"}})
	if !strings.Contains(ev.Detail, "unfinished runs end") {
		t.Errorf("a stack moved: detail %q, want it to say its runs end", ev.Detail)
	}
	ev = changeEvent(p, objectChange{ref: catalog.Ref{Kind: catalog.KindStack, ID: "x"}, action: "stack.put", place: catalog.EventPlace{Space: "a"},
		res: catalog.Result{Before: config.Stack{ID: "x", Space: "a"}, Version: 2}, after: config.Stack{ID: "x", Space: "a", Labels: []string{"l"}}})
	if strings.Contains(ev.Detail, "runs end") {
		t.Errorf("a stack relabelled in place: detail %q, says runs end", ev.Detail)
	}
}
