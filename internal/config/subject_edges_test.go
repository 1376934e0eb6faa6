package config

import (
	"strings"
	"testing"
)

// TestTemplateRules: what a subject_template may hold, at the edges of each rule.
func TestTemplateRules(t *testing.T) {
	const head = "{callerId}:{scope}:"
	for _, c := range []struct {
		name, tmpl string
		ok         bool
	}{
		{"256 bytes", head + strings.Repeat("a", MaxSubjectTemplate-len(head)), true},
		{"257 bytes", head + strings.Repeat("a", MaxSubjectTemplate-len(head)+1), false},
		{"unbalanced '}'", "x}:{callerId}:{scope}", false},
		{"unbalanced '}' at the end", head + "x}", false},
		{"wildcard '?'", head + "a?b", false},
		{"wildcard '*'", head + "a*b", false},
		{"a space", head + "a b", false},
		{"DEL", head + "a\x7fb", false},
		{"tilde", head + "a~b", true},
	} {
		_, problems := SplitSubjectTemplate(c.tmpl)
		if got := len(problems) == 0; got != c.ok {
			t.Errorf("%s: %q accepted = %v, want %v (%v)", c.name, c.tmpl, got, c.ok, problems)
		}
	}
}

// TestSubjectValueAlphabets: SubjectValueAllowed holds each placeholder's values to its
// alphabet, on which the template rules rely.
func TestSubjectValueAlphabets(t *testing.T) {
	for _, c := range []struct {
		name, value string
		ok          bool
	}{
		{"callerId", "vpc-prod", true},
		{"callerId", "vpc.prod", false},
		{"callerId", "-vpc", false},
		{"callerId", "Vpc", false},
		{"spaceId", "a/b", false},
		{"spacePath", "root/prod", true},
		{"spacePath", "root:prod", false},
		{"scope", "read", true},
		{"scope", "re.ad", false},
		{"scope", "read1", false},
		{"callerType", "stack", true},
		{"callerType", "stack1", false},
		{"callerType", "st-ack", false},
		{"runId", "01HZX3Q8J5K7M9N2P4R6S8T0VW", true},
		{"runId", "01HZX-3Q8J", false},
		{"runId", "01hzx", false},
		{"runType", "TRACKED", true},
		{"runType", "TRACKED:X", false},
		{"runPhase", "APPLYING", true},
		{"runPhase", "applying", false},
		{"unknown", "x", false},
	} {
		if got := SubjectValueAllowed(c.name, c.value); got != c.ok {
			t.Errorf("SubjectValueAllowed(%s, %q) = %v, want %v", c.name, c.value, got, c.ok)
		}
	}
}

// TestSubjectsMatchOther: '?' in a trust pattern matches any one character, and a
// placeholder the rules do not know (a template stored before them) may render as anything.
func TestSubjectsMatchOther(t *testing.T) {
	owner := SubjectOwner{CallerID: "s1", Scope: "write"}
	if _, ex, ok := SubjectsMatchOther([]string{"space:root:stack:s?:run_type:TRACKED:scope:write"}, "", owner); !ok {
		t.Errorf("'?' pattern not found to match another stack's sub")
	} else if ex == "space:root:stack:s1:run_type:TRACKED:scope:write" {
		t.Errorf("example %q is the owner's own sub", ex)
	}
	if _, _, ok := SubjectsMatchOther([]string{"space:root:stack:s1:run_type:TRACKED:scope:write"}, "", owner); ok {
		t.Errorf("an exact pattern of the owner's sub reported as matching another")
	}
	if _, _, ok := SubjectsMatchOther([]string{"x:*"}, "x:{bogus}:{callerId}:{scope}", SubjectOwner{CallerID: "a", Scope: "read"}); !ok {
		t.Errorf("a template with an unknown placeholder: pattern x:* not found to match another stack's sub")
	}
}

// TestTemplateOverlapHelpers: templates that do not parse overlap nothing, and only a
// subject_template problem is a template overlap.
func TestTemplateOverlapHelpers(t *testing.T) {
	if o, ok := SubjectTemplateOverlapsAny("team:{callerId}:{scope}", []string{"{bogus}", "{callerId"}); ok {
		t.Errorf("overlaps a template that does not parse: %q", o)
	}
	msg := overlapLead + ": detail"
	if !IsTemplateOverlap(&FieldError{Path: "spaces[1].subject_template", Msg: msg}) {
		t.Errorf("a subject_template overlap not recognised")
	}
	if IsTemplateOverlap(&FieldError{Path: "spaces[1].labels[0]", Msg: msg}) {
		t.Errorf("a problem of another field taken for a template overlap")
	}
}
