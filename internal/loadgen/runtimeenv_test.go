package loadgen

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestReportNamesTheGoRuntimeEnvironment checks that the report names the Go runtime settings
// the environment gives: every child server inherits GOGC and GOMEMLIMIT (GOGC also turns off
// the server's heap floor), so its memory and rates are not those of a server started without.
func TestReportNamesTheGoRuntimeEnvironment(t *testing.T) {
	t.Setenv("GOGC", "400")
	t.Setenv("GOMEMLIMIT", "40MiB")
	cfg := Config{Duration: 20 * time.Millisecond, Only: []string{"raw_sign_rs256"}}
	report, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if err := report.WriteTable(&out); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"GOGC", "GOMEMLIMIT"} {
		if !strings.Contains(out.String(), name) {
			t.Errorf("the report does not name %s, which every server of the run inherits:\n%s",
				name, out.String())
		}
	}
}
