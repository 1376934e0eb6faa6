package main

import (
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// requireToolsEnv lists, comma-separated, the programs whose absence fails a test instead of
// skipping it: scripts/test.sh sets it to the programs it installs from a registry, so that
// a test needing one of them never passes by skipping in CI.
const requireToolsEnv = "BROKER_REQUIRE_TOOLS"

// lookTool returns the path of program, or skips t, saying so, when it is not installed;
// when requireToolsEnv names program, its absence fails t instead.
func lookTool(t *testing.T, program string) string {
	t.Helper()
	path, err := exec.LookPath(program)
	if err == nil {
		return path
	}
	if toolRequired(os.Getenv(requireToolsEnv), program) {
		t.Fatalf("%s is not installed, and %s requires it: %v", program, requireToolsEnv, err)
	}
	t.Skipf("SKIPPED: %s is not installed", program)
	return ""
}

// toolRequired reports whether the comma-separated list names program.
func toolRequired(list, program string) bool {
	return slices.ContainsFunc(strings.Split(list, ","), func(s string) bool { return strings.TrimSpace(s) == program })
}

func TestToolRequired(t *testing.T) {
	cases := []struct {
		list, program string
		want          bool
	}{
		{"", "aws", false},
		{"aws", "aws", true},
		{"curl, aws ,jq", "aws", true},
		{"awscli,jq", "aws", false},
		{"curl,jq", "aws", false},
	}
	for _, tc := range cases {
		if got := toolRequired(tc.list, tc.program); got != tc.want {
			t.Errorf("toolRequired(%q, %q) = %v, want %v", tc.list, tc.program, got, tc.want)
		}
	}
}
