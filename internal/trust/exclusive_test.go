package trust

import (
	"errors"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/runs"
)

// TestCheckExclusiveRefusesSharedSubjects feeds the check templates that configuration
// validation refuses, as if it had not run, with the subjects broker trust would print.
func TestCheckExclusiveRefusesSharedSubjects(t *testing.T) {
	cases := []struct {
		name      string
		templates []string
		subjects  []string
		stack     string
		scope     runs.Scope
		example   string // a sub of another stack or scope the subjects match
	}{
		{"no scope: read and write share a sub", []string{"repo:{spacePath}:{callerId}"},
			[]string{"repo:root/prod:net"}, "net", runs.Write, "repo:root/prod:net"},
		{"no separator: stack b-c in space a meets stack c in space a-b", []string{"{spaceId}-{callerId}-{scope}"},
			[]string{"a-b-c-write"}, "c", runs.Write, "a-b-c-write"},
		{"run id glued to the stack: net* matches stack net-evil", []string{"space:{spaceId}:stack:{callerId}{runId}:{scope}"},
			[]string{"space:a:stack:net*:write"}, "net", runs.Write, "space:a:stack:net"},
		{"another space's template renders the same sub", []string{"", "space:prod:stack:vpc-{callerId}:run_type:{runType}:scope:{scope}"},
			[]string{"space:prod:stack:vpc-prod:run_type:TRACKED:scope:write"}, "vpc-prod", runs.Write, "space:prod:stack:vpc-prod:run_type:TRACKED:scope:write"},
		{"non-ASCII literal text, under the wildcard", []string{"s:{callerId}:{runId}:{scope}", "s:net:é:{callerId}:{scope}"},
			[]string{"s:net:*:write"}, "net", runs.Write, "s:net:é:"},
		{"another space's subs fall under the wildcard", []string{"x:{callerId}:{runId}:{scope}", "x:net:{runId}:{callerId}:{scope}"},
			[]string{"x:net:*:write"}, "net", runs.Write, "x:net:"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := checkExclusive(tc.subjects, tc.templates, config.SubjectOwner{CallerID: tc.stack, Scope: string(tc.scope)})
			if !errors.Is(err, ErrSharedSubject) {
				t.Fatalf("checkExclusive = %v, want ErrSharedSubject", err)
			}
			if !strings.Contains(err.Error(), `also matches "`+tc.example) {
				t.Errorf("error %q does not show a sub starting %q", err, tc.example)
			}
		})
	}
}

func TestCheckExclusiveAcceptsSafeSubjects(t *testing.T) {
	templates := []string{"", "space:{spaceId}:stack:{callerId}:scope:{scope}", "space:{spaceId}:stack:{callerId}:run:{runId}:scope:{scope}"}
	for _, subjects := range [][]string{
		{"space:prod:stack:vpc-prod:run_type:TRACKED:scope:write", "space:prod:stack:vpc-prod:run_type:TASK:scope:write"},
		{"space:prod:stack:vpc-prod:scope:write"},
		{"space:prod:stack:vpc-prod:run:*:scope:write"},
	} {
		if err := checkExclusive(subjects, templates, config.SubjectOwner{CallerID: "vpc-prod", Scope: string(runs.Write)}); err != nil {
			t.Errorf("checkExclusive(%q) = %v", subjects, err)
		}
	}
}

// TestRenderRefusesSharedSubjects: a configuration changed after validation (as code may do)
// with a space whose template meets prod's (the default) gets no trust policy for prod's stack:
// stack "prod" of space evil would get the sub of stack vpc-prod.
func TestRenderRefusesSharedSubjects(t *testing.T) {
	cfg := exampleConfig(t)
	cfg.Spaces = append(cfg.Spaces, config.Space{ID: "evil", Parent: "root",
		SubjectTemplate: "space:prod:stack:vpc-{callerId}:run_type:{runType}:scope:{scope}"})
	cfg.Attachments = append(cfg.Attachments, config.Attachment{Stack: "vpc-prod", Integration: "azure-prod", Write: true})
	for _, provider := range []string{"aws", "azure", "gcp", "vault"} {
		_, err := Render(cfg, Request{Provider: provider, Stack: "vpc-prod", Scope: runs.Write})
		if !errors.Is(err, ErrSharedSubject) {
			t.Errorf("%s: Render = %v, want ErrSharedSubject", provider, err)
		}
	}
	if _, err := Subjects(cfg, "vpc-prod", runs.Read); !errors.Is(err, ErrSharedSubject) {
		t.Errorf("Subjects = %v, want ErrSharedSubject", err)
	}
}
