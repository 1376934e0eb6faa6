package main

import (
	"strings"
	"testing"
)

// TestUnknownFlagSecretNotRepeated checks that a secret pasted as the name of a flag a
// command does not know (--TOKEN, or -TOKEN=value) is not repeated on stderr, which CI
// logs keep: the usage error (exit 2) withholds it, as it does for -TOKEN.
// Guards against: withheldArgs matching only the argument as typed (the parser writes "-name",
// one dash, without "=value")
func TestUnknownFlagSecretNotRepeated(t *testing.T) {
	const runToken = "brk_run_Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MDEyMzQ1Njc4OTA"
	worker := map[string]string{"BROKER_URL": "http://127.0.0.1:1", "BROKER_RUN_TOKEN": "brk_run_x"}
	cases := []struct {
		name string
		args []string
	}{
		{"token, two dashes", []string{"token", "--" + runToken}},
		{"token, one dash and a value", []string{"token", "-" + runToken + "=x"}},
		{"token, two dashes and a value", []string{"token", "--" + runToken + "=x"}},
		{"credentials, two dashes", []string{"credentials", "aws", "--" + runToken}},
		{"credentials, before the provider", []string{"credentials", "--" + runToken, "aws"}},
		{"trust, two dashes", []string{"trust", "--" + runToken}},
		{"serve, one dash and a value", []string{"serve", "-" + runToken + "=x"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(worker, tc.args...)
			if r.code != exitUsage {
				t.Fatalf("exit %d, want 2; stderr %q", r.code, r.stderr)
			}
			if strings.Contains(r.stdout+r.stderr, runToken[:12]) {
				t.Errorf("the secret is repeated: %q", r.stderr)
			}
		})
	}
}
