package config

import (
	"slices"
	"strings"
	"testing"
)

// TestEveryPlaceholderHasAnAlphabet keeps SubjectPlaceholders and placeholderChars equal.
func TestEveryPlaceholderHasAnAlphabet(t *testing.T) {
	for _, name := range SubjectPlaceholders {
		if _, ok := placeholderChars[name]; !ok {
			t.Errorf("{%s} has no alphabet", name)
		}
	}
	for name := range placeholderChars {
		if !slices.Contains(SubjectPlaceholders, name) {
			t.Errorf("alphabet for unknown placeholder {%s}", name)
		}
	}
}

// TestSeparatorRule: every pair of placeholders needs ':' between them, or '/' unless one of
// them is {spacePath}, whose values hold '/'.
func TestSeparatorRule(t *testing.T) {
	for _, a := range SubjectPlaceholders {
		for _, b := range SubjectPlaceholders {
			for _, sep := range []string{"", "-", "_", ".", "x", "/", ":", "-:-", "a/b"} {
				tmpl := "{callerId}:{scope}:{" + a + "}" + sep + "{" + b + "}"
				_, problems := SplitSubjectTemplate(tmpl)
				want := strings.Contains(sep, ":") || (strings.Contains(sep, "/") && a != "spacePath" && b != "spacePath")
				if got := len(problems) == 0; got != want {
					t.Errorf("%q: accepted = %v, want %v (%v)", tmpl, got, want, problems)
				}
			}
		}
	}
}

func TestDefaultTemplatesFollowTheRules(t *testing.T) {
	for _, tmpl := range []string{"", DefaultSubjectTemplate} {
		if p := templateProblems(tmpl); len(p) > 0 {
			t.Errorf("template %q: %v", tmpl, p)
		}
	}
}
