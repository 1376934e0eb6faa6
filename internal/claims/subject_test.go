package claims

import (
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/runs"
)

func TestTemplateRender(t *testing.T) {
	subj := Subject{
		SpaceID:    "prod",
		SpacePath:  []string{"root", "infra", "prod"},
		CallerType: CallerTypeStack,
		CallerID:   "vpc-prod",
		Run: runs.Run{
			ID: "01JTESTRUN0000000000000000", RunType: runs.Tracked,
			Phase: runs.Applying, Scope: runs.Write,
		},
	}
	cases := []struct {
		name, template, want string
	}{
		{"default", "", "space:prod:stack:vpc-prod:run_type:TRACKED:scope:write"},
		{"explicit default", DefaultSubjectTemplate, "space:prod:stack:vpc-prod:run_type:TRACKED:scope:write"},
		{"contract example", "space:{spaceId}:stack:{callerId}:scope:{scope}", "space:prod:stack:vpc-prod:scope:write"},
		{"path", "{spacePath}|{callerType}", "root/infra/prod|stack"},
		{"run fields", "{runId}:{runType}:{runPhase}", "01JTESTRUN0000000000000000:TRACKED:APPLYING"},
		{"literal only", "fixed", "fixed"},
		{"adjacent", "{spaceId}{callerId}", "prodvpc-prod"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tmpl, err := ParseTemplate(tc.template)
			if err != nil {
				t.Fatalf("ParseTemplate(%q): %v", tc.template, err)
			}
			if got := tmpl.Render(subj); got != tc.want {
				t.Errorf("Render = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestTemplateErrors(t *testing.T) {
	cases := []struct{ template, wantInErr string }{
		{"space:{space}", "{space}"},
		{"{SPACEID}", "{SPACEID}"},
		{"space:{spaceId", "unbalanced '{'"},
		{"space:spaceId}", "unbalanced '}'"},
		{"{{spaceId}}", "unbalanced '{'"},
		{"{}", "{}"},
	}
	for _, tc := range cases {
		_, err := ParseTemplate(tc.template)
		if err == nil {
			t.Errorf("ParseTemplate(%q) succeeded, want error", tc.template)
			continue
		}
		if !strings.Contains(err.Error(), tc.wantInErr) {
			t.Errorf("ParseTemplate(%q) error %q does not mention %q", tc.template, err, tc.wantInErr)
		}
	}
}

// TestEveryConfigPlaceholderRenders keeps config's list and this package's values equal.
func TestEveryConfigPlaceholderRenders(t *testing.T) {
	for _, name := range config.SubjectPlaceholders {
		if _, err := ParseTemplate("{" + name + "}"); err != nil {
			t.Errorf("config allows {%s} but claims cannot render it: %v", name, err)
		}
	}
	if len(placeholders) != len(config.SubjectPlaceholders) {
		t.Errorf("claims renders %d placeholders, config allows %d", len(placeholders), len(config.SubjectPlaceholders))
	}
}
