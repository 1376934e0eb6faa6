package config

import (
	"errors"
	"strings"
	"testing"
)

// TestTemplateOverlapProblem: the file's error for two spaces whose templates overlap quotes
// both templates and an example sub (operators read it), IsTemplateOverlap tells it from the
// other template problems, and TemplateOverlapMessage, what the API says instead, quotes none
// of it.
func TestTemplateOverlapProblem(t *testing.T) {
	const secret = "space:prod:stack:vpc-{callerId}:run_type:{runType}:scope:{scope}"
	cases := []struct {
		name, yaml string
		overlap    bool
		holds      []string // parts of the message of the problem on subject_template
	}{
		{"overlap", iss + "spaces:\n  - {id: prod, parent: root}\n  - id: dev\n    parent: root\n    subject_template: \"" + secret + "\"\n",
			true, []string{"overlaps another space's subject template", `"` + secret + `"`, `"` + DefaultSubjectTemplate + `"`, `(e.g. "space:prod:stack:vpc-`}},
		{"unknown placeholder", iss + "spaces:\n  - id: root\n    subject_template: \"s:{spaceId}:{stackId}\"\n",
			false, []string{"unknown placeholder {stackId}"}},
		{"wildcard", iss + "spaces:\n  - id: root\n    subject_template: \"s:{callerId}:*:{scope}\"\n",
			false, []string{"wildcard '*'"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("test.yaml", []byte(tc.yaml))
			var errs Errors
			if !errors.As(err, &errs) {
				t.Fatalf("Parse = %v, want Errors", err)
			}
			var fe *FieldError
			for _, e := range errs {
				if strings.HasSuffix(e.Path, ".subject_template") {
					fe = e
				}
			}
			if fe == nil {
				t.Fatalf("no problem on a subject_template: %v", err)
			}
			for _, h := range tc.holds {
				if !strings.Contains(fe.Msg, h) {
					t.Errorf("message does not hold %s: %s", h, fe.Msg)
				}
			}
			if got := IsTemplateOverlap(fe); got != tc.overlap {
				t.Errorf("IsTemplateOverlap(%q) = %v, want %v", fe.Msg, got, tc.overlap)
			}
		})
	}
	if strings.ContainsAny(TemplateOverlapMessage, `"{}`) || !strings.Contains(TemplateOverlapMessage, "overlaps another space's") {
		t.Errorf("TemplateOverlapMessage quotes a template or does not name the overlap: %s", TemplateOverlapMessage)
	}
}
