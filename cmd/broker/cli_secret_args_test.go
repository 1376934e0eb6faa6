package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestStrayArgumentsNotRepeated: a secret pasted as a positional argument (a run token, an
// API key, a cloud key) is not repeated on stderr, which CI logs keep; a name still is, so a
// typo shows. One given where an object's id goes is refused before any request, so neither
// the broker's answer nor its request log repeats it.
func TestStrayArgumentsNotRepeated(t *testing.T) {
	const runToken = "brk_run_Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MDEyMzQ1Njc4OTA"
	const awsSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	const apiKey = "brk_k_kIIHv0VhZ2lJ3mTq8sXyWbNcRdEfGa"
	worker := map[string]string{"BROKER_URL": "http://127.0.0.1:1", "BROKER_RUN_TOKEN": "brk_run_x"}
	admin := map[string]string{"BROKER_URL": "http://127.0.0.1:1", "BROKER_API_KEY": "brk_x"}
	cases := []struct {
		name   string
		vars   map[string]string
		args   []string
		secret string
	}{
		{"token", worker, []string{"token", runToken}, runToken},
		{"credentials, a provider", worker, []string{"credentials", runToken}, runToken},
		{"credentials, a second argument", worker, []string{"credentials", "aws", awsSecret}, awsSecret},
		{"trust", admin, []string{"trust", "brk_abcdefghijklmnop", "--stack", "s", "--scope", "read"}, "brk_abcdefghijklmnop"},
		{"apply", admin, []string{"apply", "-f", "x.yaml", "brk_abcdefghijklmnop"}, "brk_abcdefghijklmnop"},
		{"get", admin, []string{"get", awsSecret}, awsSecret},
		{"delete", admin, []string{"delete", "attachments", awsSecret}, awsSecret},
		{"keys", nil, []string{"keys", runToken}, runToken},
		{"a command", nil, []string{runToken}, runToken},
		{"help", nil, []string{"help", "token", runToken}, runToken},
		{"a flag's value", worker, []string{"token", "--format", runToken}, runToken},
		{"a flag's value after =", admin, []string{"get", "stacks", "-o=" + awsSecret}, awsSecret},
		{"a flag it does not know", worker, []string{"token", "-" + runToken}, runToken},
		{"a flag get does not know", admin, []string{"get", "stacks", "-" + runToken}, runToken},
		{"a value of the wrong type", admin, []string{"audit", "verify", "--checkpoint-interval", awsSecret}, awsSecret},
		{"40 hexadecimal digits", worker, []string{"token", "0123456789abcdef0123456789abcdef01234567"}, "0123456789abcdef0123456789abcdef01234567"},
		{"32 hexadecimal digits", worker, []string{"token", "0123456789abcdef0123456789abcdef"}, "0123456789abcdef0123456789abcdef"},
		{"get, a third argument", admin, []string{"get", "stacks", "vpc", awsSecret}, awsSecret},
		{"get, an id", admin, []string{"get", "stacks", apiKey}, apiKey},
		{"get, an API key's id", admin, []string{"get", "api-keys", apiKey}, apiKey},
		{"get, an attachment's stack", admin, []string{"get", "attachments", apiKey}, apiKey},
		{"delete, an id", admin, []string{"delete", "stacks", apiKey}, apiKey},
		{"delete, an attachment's stack", admin, []string{"delete", "attachments", apiKey + "/aws"}, apiKey},
		{"delete, an attachment's integration", admin, []string{"delete", "attachments", "vpc/" + apiKey}, apiKey},
		{"api-keys create --id", admin, []string{"api-keys", "create", "--id", apiKey, "--bind", "orchestrator@prod"}, apiKey},
		{"trust --stack", admin, []string{"trust", "aws", "--stack", apiKey, "--scope", "read"}, apiKey},
		{"a value of the wrong type after =", admin, []string{"audit", "verify", "--checkpoint-interval=" + awsSecret}, awsSecret},
		{"a short value of the wrong type", admin, []string{"audit", "verify", "--checkpoint-interval", "Pa55w0rd!x"}, "Pa55w0rd!x"},
		{"a value with backslashes", admin, []string{"audit", "verify", "--checkpoint-interval", `wJalrXUtnFEMI\K7MDENG\bPxRfiCY`}, `wJalrXUtnFEMI\K7MDENG\bPxRfiCY`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(context.Background(), env{stdout: &out, stderr: &errb, getenv: func(k string) string { return tc.vars[k] }}, tc.args)
			if code != exitUsage {
				t.Fatalf("broker %q: exit %d, want 2; stderr %q", tc.name, code, errb.String())
			}
			if got := out.String() + errb.String(); strings.Contains(got, tc.secret) || strings.Contains(got, tc.secret[:min(12, len(tc.secret))]) {
				t.Errorf("the argument is repeated: %q", got)
			} else if !strings.Contains(got, "not repeated") {
				t.Errorf("the message does not say the argument is withheld: %q", got)
			}
		})
	}
	var out, errb bytes.Buffer
	run(context.Background(), env{stdout: &out, stderr: &errb, getenv: func(k string) string { return worker[k] }}, []string{"credentials", "awz"})
	if !strings.Contains(errb.String(), `"awz"`) {
		t.Errorf("a mistyped provider is not named: %q", errb.String())
	}
}
