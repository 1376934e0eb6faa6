package redact

import (
	"testing"
)

// TestSecretsCutsEveryBrokerSecret: every run token and API key secret in a text is cut to its
// prefix, wherever it lies (a path segment, a quoted id, the text's start or end, after other
// characters of a word), and text without one comes back as it is.
func TestSecretsCutsEveryBrokerSecret(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"/v1/runs/brk_run_AbC-12_xyz", "/v1/runs/brk_…"},
		{"/v1/runs/brk_run_AbC/finish", "/v1/runs/brk_…/finish"},
		{`No run with id "brk_run_s3cr3t".`, `No run with id "brk_…".`},
		{"brk_k3y and brk_other", "brk_… and brk_…"},
		{"/v1/stacks/vpc-prod", "/v1/stacks/vpc-prod"},
		{"req-brk_run_s3cr3t.1", "req-brk_….1"},
		{"/v1/runs/run-x", "/v1/runs/run-x"},
		{"", ""},
	} {
		if got := Secrets(tc.in); got != tc.want {
			t.Errorf("Secrets(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
