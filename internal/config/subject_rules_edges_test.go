package config

import (
	"fmt"
	"strings"
	"testing"
)

// TestTemplateGrammarProblems checks what SplitSubjectTemplate reports: a placeholder name
// is taken as written (" callerId" is unknown), a '{' met before the previous one closed is
// reported as unbalanced, the template rules are applied only to a template that parses, and a
// character a literal may not hold is reported once however often it repeats.
// Guards against: placeholder name trimmed of spaces
// Guards against: '{' before a closing '}' not reported as unbalanced
// Guards against: rules applied to a template that does not parse
// Guards against: literal problems not deduplicated per character
func TestTemplateGrammarProblems(t *testing.T) {
	for _, c := range []struct {
		name, tmpl string
		want       []string // each problem, in order, by a phrase of it
	}{
		{"spaced name", "a:{ callerId}:{scope}", []string{"unknown placeholder { callerId}"}},
		{"brace inside a brace", "x{:{callerId}:{scope}", []string{"unbalanced '{' at offset 1"}},
		{"does not parse", "a:{bogus}", []string{"unknown placeholder {bogus}"}},
		{"repeated space", "{callerId}:{scope}:a b c d", []string{"not ' '"}},
	} {
		_, problems := SplitSubjectTemplate(c.tmpl)
		if len(problems) != len(c.want) {
			t.Errorf("%s: %q problems %q, want %d", c.name, c.tmpl, problems, len(c.want))
			continue
		}
		for i, w := range c.want {
			if !strings.Contains(problems[i], w) {
				t.Errorf("%s: problem %q does not say %q", c.name, problems[i], w)
			}
		}
	}
}

// TestHalvedShareAtLeastOne checks that a share is at least one, even of a whole of
// nothing.
// Guards against: HalvedShare without its final max(share, 1)
func TestHalvedShareAtLeastOne(t *testing.T) {
	for _, c := range []struct{ whole, depth int }{{0, 0}, {1, 0}, {1, 3}, {3, 5}} {
		if got := HalvedShare(c.whole, c.depth); got < 1 {
			t.Errorf("HalvedShare(%d, %d) = %d, want at least 1", c.whole, c.depth, got)
		}
	}
}

// TestWordAlphabets checks the alphabets of run types and scopes: a run type is upper-case
// letters and '_', a scope lower-case letters only.
// Guards against: '_' dropped from the run type alphabet
// Guards against: '_' added to the scope alphabet
func TestWordAlphabets(t *testing.T) {
	for _, c := range []struct {
		name, value string
		ok          bool
	}{
		{"runType", "DRIFT_CHECK", true},
		{"runPhase", "PLAN_APPLY", true},
		{"scope", "re_ad", false},
		{"scope", "Read", false},
	} {
		if got := SubjectValueAllowed(c.name, c.value); got != c.ok {
			t.Errorf("SubjectValueAllowed(%s, %q) = %v, want %v", c.name, c.value, got, c.ok)
		}
	}
}

// TestOverlapReportedOnTheLaterSpace checks that a template overlap is reported at the
// subject_template of the space met later in the list, the one whose template is new.
// Guards against: overlap reported at the earlier space's index
func TestOverlapReportedOnTheLaterSpace(t *testing.T) {
	c := &Config{Issuer: "https://broker.example.com", Spaces: []Space{
		{ID: RootSpace},
		{ID: "prod", Parent: RootSpace},
		{ID: "dev", Parent: RootSpace,
			SubjectTemplate: "space:prod:stack:vpc-{callerId}:run_type:{runType}:scope:{scope}"},
	}}
	c.ApplyDefaults()
	err := c.Validate()
	fe := problemAt(err, "spaces[2].subject_template")
	if fe == nil || !IsTemplateOverlap(fe) {
		t.Fatalf("no overlap at spaces[2].subject_template: %v", err)
	}
	for _, p := range []string{"spaces[0].subject_template", "spaces[1].subject_template"} {
		if problemAt(err, p) != nil {
			t.Errorf("overlap also reported at %s: %v", p, err)
		}
	}
}

// TestEachSpaceTemplateCheckedOnItsOwn checks that each space's subject_template is judged
// by its own text, whatever the spaces before and after it hold: of root, a and c with the
// default template and b with a wildcard, b alone has a problem.
// Guards against: template problems memoised under one key for every template (looked up or stored)
func TestEachSpaceTemplateCheckedOnItsOwn(t *testing.T) {
	c := &Config{Issuer: "https://broker.example.com", Spaces: []Space{
		{ID: RootSpace},
		{ID: "a", Parent: RootSpace},
		{ID: "b", Parent: RootSpace, SubjectTemplate: "s:{callerId}:*:{scope}"},
		{ID: "c", Parent: RootSpace},
	}}
	c.ApplyDefaults()
	err := c.Validate()
	for i, want := range []bool{false, false, true, false} {
		p := fmt.Sprintf("spaces[%d].subject_template", i)
		if got := problemAt(err, p) != nil; got != want {
			t.Errorf("problem at %s = %v, want %v: %v", p, got, want, err)
		}
	}
}

// TestDuplicateSpaceTemplateNotCompared checks that a space repeating an earlier id gets
// the duplicate problem only: its template is not compared with the others.
// Guards against: duplicate skip dropped in checkTemplateOverlaps
func TestDuplicateSpaceTemplateNotCompared(t *testing.T) {
	c := &Config{Issuer: "https://broker.example.com", Spaces: []Space{
		{ID: RootSpace},
		{ID: "prod", Parent: RootSpace},
		{ID: "prod", Parent: RootSpace,
			SubjectTemplate: "space:prod:stack:vpc-{callerId}:run_type:{runType}:scope:{scope}"},
	}}
	c.ApplyDefaults()
	err := c.Validate()
	if problemAt(err, "spaces[2].id") == nil {
		t.Fatalf("duplicate id not reported: %v", err)
	}
	if fe := problemAt(err, "spaces[2].subject_template"); fe != nil {
		t.Errorf("the duplicate's template compared: %v", fe)
	}
}
