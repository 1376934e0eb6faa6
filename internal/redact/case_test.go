package redact

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

// TestSecretsCutsAnyCaseOfThePrefix: a secret whose prefix is written in another case (BRK_RUN_,
// Brk_) is the same secret material, and is cut like one written as made, in text and in a log
// line; text holding no prefix in any case comes back as it is.
// Guards against: redact.go:Secrets looking for "brk_" in lower case only, so an upper-cased
// run token in an error or a log line was written whole.
func TestSecretsCutsAnyCaseOfThePrefix(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"/v1/runs/BRK_RUN_AbC-12_xyz", "/v1/runs/brk_…"},
		{`No run with id "Brk_run_s3cr3t".`, `No run with id "brk_…".`},
		{"bRk_k3y and BRK_other", "brk_… and brk_…"},
		{"_brk", "_brk"},
		{"br_k_", "br_k_"},
		{"BRK", "BRK"},
	} {
		if got := Secrets(tc.in); got != tc.want {
			t.Errorf("Secrets(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if got, want := Holds(tc.in), tc.in != tc.want; got != want {
			t.Errorf("Holds(%q) = %v, want %v", tc.in, got, want)
		}
	}
	var out bytes.Buffer
	slog.New(NewHandler(slog.NewTextHandler(&out, nil))).Info("no run BRK_RUN_s3cr3t", "id", "BRK_RUN_s3cr3t")
	if strings.Contains(out.String(), "s3cr3t") {
		t.Errorf("the log line holds the upper-cased secret: %s", out.String())
	}
}
