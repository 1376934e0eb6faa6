package claims

import (
	"testing"

	"github.com/brokerhq/broker/internal/runs"
)

// TestTemplateRendersRunScopeAndCaller pins that {scope} renders the run's own scope and
// {callerType} the subject's own caller type: a read (PROPOSED) run's sub must say read, or a write
// trust policy would admit it.
// Guards against: internal/claims/subject.go:32 `"scope"` placeholder returning a fixed "write"
// Guards against: internal/claims/subject.go:27 `"callerType"` placeholder returning a fixed
// "stack"
func TestTemplateRendersRunScopeAndCaller(t *testing.T) {
	for _, tc := range []struct {
		name, template string
		subj           Subject
		want           string
	}{
		{"read run", "", Subject{SpaceID: "prod", CallerType: CallerTypeStack, CallerID: "vpc",
			Run: runs.Run{ID: "r", RunType: runs.Proposed, Phase: runs.Planning, Scope: runs.Read}},
			"space:prod:stack:vpc:run_type:PROPOSED:scope:read"},
		{"write run", "", Subject{SpaceID: "prod", CallerType: CallerTypeStack, CallerID: "vpc",
			Run: runs.Run{ID: "r", RunType: runs.Tracked, Phase: runs.Applying, Scope: runs.Write}},
			"space:prod:stack:vpc:run_type:TRACKED:scope:write"},
		{"tracked run still planning", "{callerId}:{runPhase}:{scope}", Subject{CallerType: CallerTypeStack, CallerID: "vpc",
			Run: runs.Run{ID: "r", RunType: runs.Tracked, Phase: runs.Planning, Scope: runs.Read}},
			"vpc:PLANNING:read"},
		{"caller type", "{callerType}:{callerId}:{scope}", Subject{CallerType: "module", CallerID: "vpc",
			Run: runs.Run{Scope: runs.Read}}, "module:vpc:read"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tmpl, err := ParseTemplate(tc.template)
			if err != nil {
				t.Fatal(err)
			}
			if got := tmpl.Render(tc.subj); got != tc.want {
				t.Errorf("Render = %q, want %q", got, tc.want)
			}
		})
	}
}
