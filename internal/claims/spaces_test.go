package claims

import (
	"slices"
	"testing"

	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/runs"
)

// TestSpacesSubject: Spaces renders each space's own template with the space's path from
// root, and knows no space it was not given.
func TestSpacesSubject(t *testing.T) {
	spaces := []config.Space{
		{ID: "root"},
		{ID: "infra", Parent: "root"},
		{ID: "prod", Parent: "infra", SubjectTemplate: "{spacePath}:{callerType}/{callerId}:{scope}"},
	}
	paths := map[string][]string{"root": {"root"}, "infra": {"root", "infra"}, "prod": {"root", "infra", "prod"}}
	s, err := SpacesFrom(spaces, paths)
	if err != nil {
		t.Fatal(err)
	}
	run := runs.Run{ID: "01JTESTRUN0000000000000000", RunType: runs.Tracked, Phase: runs.Applying, Scope: runs.Write}
	for _, tc := range []struct {
		space, want string
		ok          bool
	}{
		{"prod", "root/infra/prod:stack/vpc:write", true},
		{"infra", "space:infra:stack:vpc:run_type:TRACKED:scope:write", true},
		{"nope", "", false},
	} {
		got, ok := s.Subject(Subject{SpaceID: tc.space, CallerType: CallerTypeStack, CallerID: "vpc", Run: run})
		if got != tc.want || ok != tc.ok {
			t.Errorf("Subject(space %s) = %q, %v; want %q, %v", tc.space, got, ok, tc.want, tc.ok)
		}
	}
	// A space outside the tree under root has no path: refused, not rendered with an empty one.
	if _, err := SpacesFrom(append(spaces, config.Space{ID: "orphan"}), paths); err == nil {
		t.Error("SpacesFrom accepted a space without a path from root")
	}
}

// TestSupportedClaims: the discovery document lists every claim a run token carries: the
// registered ones and broker's own.
func TestSupportedClaims(t *testing.T) {
	want := []string{"iss", "sub", "aud", "exp", "iat", "nbf", "jti",
		"spaceId", "callerType", "callerId", "runType", "runId", "runPhase", "scope"}
	for _, c := range want {
		if !slices.Contains(Supported, c) {
			t.Errorf("claims_supported lacks %q: %v", c, Supported)
		}
	}
}

// TestSpacesFromRefusesBadTemplate pins that a space whose `sub` template breaks the
// grammar makes SpacesFrom fail, naming the space, rather than leave the space with a template
// that renders an empty `sub`.
// Guards against: the ParseTemplate error ignored, spaces.go:SpacesFrom
func TestSpacesFromRefusesBadTemplate(t *testing.T) {
	spaces := []config.Space{{ID: "root"}, {ID: "prod", Parent: "root", SubjectTemplate: "fixed"}}
	paths := map[string][]string{"root": {"root"}, "prod": {"root", "prod"}}
	s, err := SpacesFrom(spaces, paths)
	if err == nil {
		sub, _ := s.Subject(Subject{SpaceID: "prod", CallerType: CallerTypeStack, CallerID: "vpc", Run: runs.Run{Scope: runs.Read}})
		t.Fatalf("SpacesFrom accepted a template without {callerId}; prod renders sub %q", sub)
	}
}

// TestNewSpacesRendersPathFromRoot pins that NewSpaces gives each space its whole path from
// root, so {spacePath} names every ancestor.
// Guards against: NewSpaces giving each space a path of itself alone, spaces.go:NewSpaces
func TestNewSpacesRendersPathFromRoot(t *testing.T) {
	cfg := &config.Config{Spaces: []config.Space{
		{ID: "root"},
		{ID: "infra", Parent: "root"},
		{ID: "prod", Parent: "infra", SubjectTemplate: "{spacePath}:{callerId}:{scope}"},
	}}
	s, err := NewSpaces(cfg)
	if err != nil {
		t.Fatal(err)
	}
	got, ok := s.Subject(Subject{SpaceID: "prod", CallerType: CallerTypeStack, CallerID: "vpc", Run: runs.Run{Scope: runs.Write}})
	if want := "root/infra/prod:vpc:write"; !ok || got != want {
		t.Errorf("Subject = %q, %v; want %q", got, ok, want)
	}
}
