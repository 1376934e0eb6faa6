package main

import (
	"strings"
	"testing"
)

// TestGCPExecutableUsageErrorTakesGoogleShape: run by a Google library
// (GOOGLE_EXTERNAL_ACCOUNT_AUDIENCE set), every failure of --format gcp-executable, a usage
// error in the configured command included, prints Google's failure shape on stdout, exits 0
// and writes nothing to stderr (README: "the one exception to the exit codes above").
func TestGCPExecutableUsageErrorTakesGoogleShape(t *testing.T) {
	cases := [][]string{
		{"token", "--format", "gcp-executable", "--audiance", "x"},
		{"token", "--format", "gcp-executable", "extra"},
		{"token", "--format", "gcp-executable", "--audience="},
		{"token", "--audiance", "x", "--format=gcp-executable"},
	}
	vars := map[string]string{
		"BROKER_URL": "http://127.0.0.1:1", "BROKER_RUN_TOKEN": "brk_run_x",
		"GOOGLE_EXTERNAL_ACCOUNT_AUDIENCE": "//iam.googleapis.com/projects/1/x",
	}
	for _, args := range cases {
		res := runCLI(vars, args...)
		if res.code != exitOK || res.stderr != "" ||
			!strings.Contains(res.stdout, `"success":false`) {
			t.Errorf("broker %q: exit %d, stdout %q, stderr %q; want 0, failure shape, no stderr",
				args, res.code, res.stdout, res.stderr)
		}
	}
}
