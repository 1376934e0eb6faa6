package tooltest

import (
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// RequireEnv lists, comma-separated, the programs whose absence fails a test instead of
// skipping it.
const RequireEnv = "BROKER_REQUIRE_TOOLS"

// Look returns the path of program, or skips t, saying so, when it is not installed; when
// RequireEnv names program, its absence fails t instead.
func Look(t testing.TB, program string) string {
	t.Helper()
	path, err := exec.LookPath(program)
	if err == nil {
		return path
	}
	if Required(program) {
		t.Fatalf("%s is not installed, and %s requires it: %v", program, RequireEnv, err)
	} else {
		t.Skipf("SKIPPED: %s is not installed", program)
	}
	return ""
}

// Required reports whether RequireEnv names program.
func Required(program string) bool { return requiredIn(os.Getenv(RequireEnv), program) }

// requiredIn reports whether the comma-separated list names program.
func requiredIn(list, program string) bool {
	return slices.ContainsFunc(strings.Split(list, ","), func(s string) bool { return strings.TrimSpace(s) == program })
}
