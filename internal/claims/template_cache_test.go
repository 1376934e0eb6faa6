package claims

import (
	"testing"

	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/runs"
)

// TestSpacesFromKeepsEachSpacesTemplate pins that every space renders its own `sub`
// template whatever order the spaces come in: a space without a template, listed after one
// with a custom template, renders the default format, not its neighbour's.
// Guards against: the parsed-template cache storing under the wrong key, spaces.go:SpacesFrom
func TestSpacesFromKeepsEachSpacesTemplate(t *testing.T) {
	spaces := []config.Space{
		{ID: "root", SubjectTemplate: "{spacePath}:{callerId}:{scope}"},
		{ID: "prod", Parent: "root"},
		{ID: "dev", Parent: "root", SubjectTemplate: "d:{callerId}:{scope}"},
		{ID: "test", Parent: "root", SubjectTemplate: "{spacePath}:{callerId}:{scope}"},
	}
	paths := map[string][]string{"root": {"root"}, "prod": {"root", "prod"}, "dev": {"root", "dev"}, "test": {"root", "test"}}
	s, err := SpacesFrom(spaces, paths)
	if err != nil {
		t.Fatal(err)
	}
	run := runs.Run{ID: "r", RunType: runs.Proposed, Phase: runs.Planning, Scope: runs.Read}
	for space, want := range map[string]string{
		"root": "root:vpc:read",
		"prod": "space:prod:stack:vpc:run_type:PROPOSED:scope:read",
		"dev":  "d:vpc:read",
		"test": "root/test:vpc:read",
	} {
		got, ok := s.Subject(Subject{SpaceID: space, CallerType: CallerTypeStack, CallerID: "vpc", Run: run})
		if !ok || got != want {
			t.Errorf("Subject(space %s) = %q, %v; want %q", space, got, ok, want)
		}
	}
}
