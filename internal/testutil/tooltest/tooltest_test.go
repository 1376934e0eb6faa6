package tooltest

import (
	"fmt"
	"strings"
	"testing"
)

func TestRequiredIn(t *testing.T) {
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
		if got := requiredIn(tc.list, tc.program); got != tc.want {
			t.Errorf("requiredIn(%q, %q) = %v, want %v", tc.list, tc.program, got, tc.want)
		}
	}
}

// recordingTB records what Look asks of its test instead of ending it.
type recordingTB struct {
	testing.TB
	fatal, skip string
}

func (r *recordingTB) Helper()                        {}
func (r *recordingTB) Fatalf(format string, a ...any) { r.fatal = fmt.Sprintf(format, a...) }
func (r *recordingTB) Skipf(format string, a ...any)  { r.skip = fmt.Sprintf(format, a...) }

// TestLookFailsOnlyForARequiredTool: a program that is not installed skips the test, saying so,
// unless RequireEnv names it, when it fails the test; one that is installed is returned.
func TestLookFailsOnlyForARequiredTool(t *testing.T) {
	const missing = "broker-no-such-program"
	for _, list := range []string{"", "aws," + missing} {
		t.Setenv(RequireEnv, list)
		r := &recordingTB{TB: t}
		if got := Look(r, missing); got != "" {
			t.Errorf("Look(%q) = %q", missing, got)
		}
		required := list != ""
		if required && (r.fatal == "" || r.skip != "") || !required && (r.skip == "" || r.fatal != "") {
			t.Errorf("%s=%q: Look failed with %q and skipped with %q", RequireEnv, list, r.fatal, r.skip)
		}
		if !strings.Contains(r.fatal+r.skip, missing) {
			t.Errorf("the message does not name the program: %q%q", r.fatal, r.skip)
		}
	}
	if got := Look(&recordingTB{TB: t}, "sh"); got == "" {
		t.Error("Look did not find sh")
	}
}
