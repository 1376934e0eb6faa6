package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// answering is a broker whose every answer is 200 with body.
func answering(t *testing.T, body string) string {
	t.Helper()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(ts.Close)
	return ts.URL
}

// secretValue stands for a credential in the answers: no message may echo it.
const secretValue = "s3cr3t-value"

// TestWorkerCommandsRefuseIncompleteAnswers: a 200 answer that lacks what broker token or
// broker credentials prints is an operational error (exit 1, one line on stderr naming what is
// missing, nothing on stdout, no secret of the answer echoed), never an empty line or empty
// value printed as if it were the answer.
func TestWorkerCommandsRefuseIncompleteAnswers(t *testing.T) {
	const awsEnv = `"AWS_ACCESS_KEY_ID":"AKIAEXAMPLE","AWS_SECRET_ACCESS_KEY":"` + secretValue + `","AWS_SESSION_TOKEN":"tok"`
	cases := []struct {
		name, answer string
		args         []string
		want         string // stderr holds this
	}{
		{"token: empty object", `{}`, []string{"token"}, "holds no token"},
		{"token: empty token", `{"token":"","expiresAt":"2030-01-01T00:00:00Z"}`, []string{"token"}, "holds no token"},
		{"token json: no token", `{"expiresAt":"2030-01-01T00:00:00Z"}`, []string{"token", "--format", "json"}, "holds no token"},
		{"token json: no expiry", `{"token":"eyJh.` + secretValue + `.sig"}`, []string{"token", "--format", "json"}, "holds no expiresAt"},
		// A token printed raw goes into $(broker token) or a CI environment file: a line break
		// or anything but a compact JWT would change what the script writes.
		{"token raw: a line break", `{"token":"eyJh.` + secretValue + `.sig\nEVIL=1"}`, []string{"token"}, "not a compact JWT"},
		{"token raw: two parts", `{"token":"eyJh.` + secretValue + `"}`, []string{"token"}, "not a compact JWT"},
		{"token raw: a space", `{"token":"eyJh.` + secretValue + ` .sig"}`, []string{"token"}, "not a compact JWT"},
		{"token raw: an empty part", `{"token":"eyJh..` + secretValue + `"}`, []string{"token"}, "not a compact JWT"},
		// --format env is eval'd: a variable name is printed unquoted after export.
		// Only the provider's own variables: PATH or BASH_ENV would take over the shell too.
		{"credentials env: a name that runs a command", `{"provider":"aws","env":{` + awsEnv + `,"X=1; touch /tmp/pwned; Y":"z"}}`, []string{"credentials", "aws"}, "none of aws's"},
		{"credentials env: PATH", `{"provider":"aws","env":{` + awsEnv + `,"PATH":"/tmp/evil"}}`, []string{"credentials", "aws"}, "none of aws's"},
		{"credentials env: BASH_ENV", `{"provider":"aws","env":{` + awsEnv + `,"BASH_ENV":"/tmp/evil"}}`, []string{"credentials", "aws"}, "none of aws's"},
		{"credentials env: another provider's variable", `{"provider":"vault","env":{"VAULT_ADDR":"http://127.0.0.1:8200","VAULT_TOKEN":"` + secretValue + `","AWS_REGION":"x"}}`, []string{"credentials", "vault", "--format", "json"}, "none of vault's"},
		{"credentials env: an empty name", `{"provider":"aws","env":{` + awsEnv + `,"":"z"}}`, []string{"credentials", "aws"}, "none of aws's"},
		{"token gcp-executable: no token", `{}`, []string{"token", "--format", "gcp-executable"}, "holds no token"},
		{"credentials env: no env", `{"provider":"aws","expiresAt":"2030-01-01T00:00:00Z"}`, []string{"credentials", "aws"}, "holds no AWS_ACCESS_KEY_ID"},
		{"credentials env: empty env", `{"provider":"vault","env":{}}`, []string{"credentials", "vault"}, "holds no VAULT_ADDR"},
		{"credentials json: no env", `{"provider":"gcp","gcp":{"accessToken":"` + secretValue + `"}}`, []string{"credentials", "gcp", "--format", "json"}, "holds no GOOGLE_OAUTH_ACCESS_TOKEN"},
		{"credentials env: one variable empty", `{"provider":"aws","env":{"AWS_ACCESS_KEY_ID":"AKIAEXAMPLE","AWS_SECRET_ACCESS_KEY":"` + secretValue + `","AWS_SESSION_TOKEN":""}}`, []string{"credentials", "aws"}, "holds no AWS_SESSION_TOKEN"},
		{"credentials credential-process: no expiry", `{"provider":"aws","env":{` + awsEnv + `}}`, []string{"credentials", "aws", "--format", "credential-process"}, "holds no expiresAt"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := runCLI(map[string]string{"BROKER_URL": answering(t, tc.answer), "BROKER_RUN_TOKEN": "brk_run_x"}, tc.args...)
			if res.code != exitError {
				t.Fatalf("broker %q on %s: exit %d, want 1; stdout %q stderr %q", tc.args, tc.answer, res.code, res.stdout, res.stderr)
			}
			if strings.Count(res.stderr, "\n") != 1 || !strings.Contains(res.stderr, tc.want) {
				t.Errorf("broker %q: stderr %q, want one line holding %q", tc.args, res.stderr, tc.want)
			}
			if strings.Contains(res.stderr, secretValue) {
				t.Errorf("broker %q: stderr echoes the answer's secret: %q", tc.args, res.stderr)
			}
			// gcp-executable prints Google's failure shape on stdout; the others print nothing.
			if tc.args[len(tc.args)-1] == "gcp-executable" {
				if !strings.Contains(res.stdout, `"success":false`) {
					t.Errorf("broker %q: stdout %q, want Google's failure shape", tc.args, res.stdout)
				}
			} else if res.stdout != "" {
				t.Errorf("broker %q: stdout %q, want nothing", tc.args, res.stdout)
			}
		})
	}
}

// TestWorkerCommandsPrintCompleteAnswers: the answers the contract gives pass the check.
func TestWorkerCommandsPrintCompleteAnswers(t *testing.T) {
	cases := []struct {
		name, answer string
		args         []string
		want         string // stdout holds this
	}{
		{"token raw without expiry", `{"token":"eyJ.x.y"}`, []string{"token"}, "eyJ.x.y\n"},
		{"token json", `{"token":"eyJ.x.y","expiresAt":"2030-01-01T00:00:00Z"}`, []string{"token", "--format", "json"}, `"token":"eyJ.x.y"`},
		{"credentials env", `{"provider":"vault","env":{"VAULT_ADDR":"http://v","VAULT_TOKEN":"hvs.x"}}`, []string{"credentials", "vault"}, "export VAULT_TOKEN='hvs.x'"},
		{"credentials credential-process", `{"provider":"aws","expiresAt":"2030-01-01T00:00:00Z","env":{"AWS_ACCESS_KEY_ID":"AKIA","AWS_SECRET_ACCESS_KEY":"k","AWS_SESSION_TOKEN":"t"}}`,
			[]string{"credentials", "aws", "--format", "credential-process"}, `"AccessKeyId":"AKIA"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := runCLI(map[string]string{"BROKER_URL": answering(t, tc.answer), "BROKER_RUN_TOKEN": "brk_run_x"}, tc.args...)
			if res.code != exitOK || !strings.Contains(res.stdout, tc.want) {
				t.Fatalf("broker %q: exit %d, stdout %q, stderr %q; want 0 and %q", tc.args, res.code, res.stdout, res.stderr, tc.want)
			}
		})
	}
}
