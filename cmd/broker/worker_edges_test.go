package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestWorkerAnswerChecks pins which broker answers broker token and broker credentials refuse (exit
// 1, nothing printed as if it were the answer) and which they accept.
// Guards against: token.go:35 format != "raw" -> format == "json" (gcp-executable without expiresAt
// printed as success)
// Guards against: gcpexecutable.go:73 ans.check("gcp-executable") -> ans.check("raw")
// Guards against: token.go:45 len(parts) != 3 -> len(parts) < 3 (a four-part token printed)
// Guards against: credentials.go:67 json.Unmarshal error ignored (an expiresAt that is no time
// printed)
func TestWorkerAnswerChecks(t *testing.T) {
	const awsEnv = `"env":{"AWS_ACCESS_KEY_ID":"AKIA","AWS_SECRET_ACCESS_KEY":"k","AWS_SESSION_TOKEN":"t"}`
	cases := []struct {
		name, answer string
		args         []string
		code         int
	}{
		{"gcp-executable without expiresAt", `{"token":"eyJ.x.y"}`, []string{"token", "--format", "gcp-executable"}, exitError},
		{"gcp-executable with expiresAt", `{"token":"eyJ.x.y","expiresAt":"2030-01-01T00:00:00Z"}`, []string{"token", "--format", "gcp-executable"}, exitOK},
		{"raw token of four parts", `{"token":"eyJ.x.y.z"}`, []string{"token"}, exitError},
		{"raw token of five parts (JWE)", `{"token":"eyJ.x.y.z.w"}`, []string{"token"}, exitError},
		{"credentials json with an expiresAt that is no time", `{"provider":"aws",` + awsEnv + `,"expiresAt":"soon"}`, []string{"credentials", "aws", "--format", "json"}, exitError},
		{"credentials env with an expiresAt that is no time", `{"provider":"aws",` + awsEnv + `,"expiresAt":"soon"}`, []string{"credentials", "aws"}, exitError},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := runCLI(map[string]string{"BROKER_URL": answering(t, tc.answer), "BROKER_RUN_TOKEN": "brk_run_x"}, tc.args...)
			if res.code != tc.code {
				t.Fatalf("broker %q on %s: exit %d, want %d; stdout %q stderr %q", tc.args, tc.answer, res.code, tc.code, res.stdout, res.stderr)
			}
			if tc.code == exitError && (strings.Contains(res.stdout, `"success":true`) || strings.Contains(res.stdout, "AKIA") || strings.Contains(res.stdout, "eyJ")) {
				t.Errorf("broker %q: refused answer printed anyway: %q", tc.args, res.stdout)
			}
		})
	}
}

// TestGCPExecutableExpirationIsTheTokensExpiry pins expiration_time of the executable response to
// the token's own expiresAt (Unix seconds), nothing later.
// Guards against: gcpexecutable.go:77 ExpirationTime: ans.ExpiresAt.Unix() ->
// ans.ExpiresAt.Unix()+3600
func TestGCPExecutableExpirationIsTheTokensExpiry(t *testing.T) {
	exp := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	url := answering(t, `{"token":"eyJ.x.y","expiresAt":"`+exp.Format(time.RFC3339)+`"}`)
	res := runCLI(map[string]string{"BROKER_URL": url, "BROKER_RUN_TOKEN": "brk_run_x"}, "token", "--format", "gcp-executable")
	var got gcpExecutableResponse
	if res.code != exitOK || json.Unmarshal([]byte(res.stdout), &got) != nil {
		t.Fatalf("exit %d, stdout %q, stderr %q", res.code, res.stdout, res.stderr)
	}
	if !got.Success || got.IDToken != "eyJ.x.y" || got.ExpirationTime != exp.Unix() {
		t.Errorf("response %+v, want success, the token and expiration_time %d", got, exp.Unix())
	}
}

// TestCredentialProcessIsForAWSOnly pins --format credential-process to aws: for any other provider
// it is a usage error (exit 2) before anything is asked of the broker.
// Guards against: credentials.go:52 provider != providers.AWS check dropped
func TestCredentialProcessIsForAWSOnly(t *testing.T) {
	asked := false
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked = true
		_, _ = w.Write([]byte(`{"provider":"gcp","expiresAt":"2030-01-01T00:00:00Z","env":{"GOOGLE_OAUTH_ACCESS_TOKEN":"ya29.x"}}`))
	}))
	t.Cleanup(ts.Close)
	for _, p := range []string{"gcp", "azure", "vault"} {
		res := runCLI(map[string]string{"BROKER_URL": ts.URL, "BROKER_RUN_TOKEN": "brk_run_x"}, "credentials", p, "--format", "credential-process")
		if res.code != exitUsage || res.stdout != "" || !strings.Contains(res.stderr, "aws only") {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want 2 and the aws-only rule", p, res.code, res.stdout, res.stderr)
		}
	}
	if asked {
		t.Error("the broker was asked for credentials before the usage error")
	}
}

// TestCredentialsJSONIsTheBrokersAnswer pins --format json to the broker's answer as it came, the
// provider's own object included (not a re-encoding of the fields the CLI reads).
// Guards against: credentials.go:75 Fprintln(string(raw)) -> json.NewEncoder(...).Encode(ans)
func TestCredentialsJSONIsTheBrokersAnswer(t *testing.T) {
	answer := `{"provider":"aws","integration":"i","scope":"read","expiresAt":"2030-01-01T00:00:00Z","env":{"AWS_ACCESS_KEY_ID":"AKIA","AWS_SECRET_ACCESS_KEY":"k","AWS_SESSION_TOKEN":"t"},"aws":{"roleArn":"arn:aws:iam::123456789012:role/x"}}`
	res := runCLI(map[string]string{"BROKER_URL": answering(t, answer), "BROKER_RUN_TOKEN": "brk_run_x"}, "credentials", "aws", "--format", "json")
	if res.code != exitOK || strings.TrimSpace(res.stdout) != answer {
		t.Errorf("exit %d, stdout %q; want the answer as the broker sent it", res.code, res.stdout)
	}
}

// TestCredentialsEnvLinesAreSorted pins --format env to one export line per variable in name order,
// so that the output is the same every time.
// Guards against: credentials.go:86 slices.Sort(names) dropped
func TestCredentialsEnvLinesAreSorted(t *testing.T) {
	answer := `{"provider":"aws","env":{"AWS_SESSION_TOKEN":"t","AWS_REGION":"r","AWS_ACCESS_KEY_ID":"AKIA","AWS_DEFAULT_REGION":"d","AWS_SECRET_ACCESS_KEY":"k"}}`
	want := "export AWS_ACCESS_KEY_ID='AKIA'\nexport AWS_DEFAULT_REGION='d'\nexport AWS_REGION='r'\nexport AWS_SECRET_ACCESS_KEY='k'\nexport AWS_SESSION_TOKEN='t'\n"
	url := answering(t, answer)
	for i := 0; i < 20; i++ { // map order is random: one unsorted run out of 20 shows it
		res := runCLI(map[string]string{"BROKER_URL": url, "BROKER_RUN_TOKEN": "brk_run_x"}, "credentials", "aws")
		if res.code != exitOK || res.stdout != want {
			t.Fatalf("exit %d, stdout %q; want %q", res.code, res.stdout, want)
		}
	}
}

// TestWorkerClientRequest pins what broker token sends: POST /v1/token (one slash, also when
// BROKER_URL ends with "/"), with the run token of BROKER_RUN_TOKEN trimmed of the surrounding
// white space a file or secret store leaves (a trailing newline).
// Guards against: client.go:72 strings.TrimSpace(secret) dropped
// Guards against: client.go:71 strings.TrimSuffix(base, "/") dropped
func TestWorkerClientRequest(t *testing.T) {
	var gotPath, gotAuth string
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotPath, gotAuth = r.URL.Path, r.Header.Get("Authorization")
		_, _ = w.Write([]byte(`{"token":"eyJ.x.y"}`))
	}))
	t.Cleanup(ts.Close)
	cases := []struct{ name, url, token string }{
		{"token with a trailing newline", ts.URL, "brk_run_x\n"},
		{"token with spaces", ts.URL, "  brk_run_x "},
		{"URL with a trailing slash", ts.URL + "/", "brk_run_x"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			gotPath, gotAuth = "", ""
			res := runCLI(map[string]string{"BROKER_URL": tc.url, "BROKER_RUN_TOKEN": tc.token}, "token")
			if res.code != exitOK || res.stdout != "eyJ.x.y\n" {
				t.Fatalf("exit %d, stdout %q, stderr %q", res.code, res.stdout, res.stderr)
			}
			if gotPath != "/v1/token" || gotAuth != "Bearer brk_run_x" {
				t.Errorf("request to %q with Authorization %q; want /v1/token and Bearer brk_run_x", gotPath, gotAuth)
			}
		})
	}
}

// TestWorkerAnswerIsBounded pins the cap on what the CLI reads of an answer (maxResponseBytes): a
// larger answer is an error, never read whole nor printed.
// Guards against: client.go:133 io.LimitReader(resp.Body, maxResponseBytes) dropped
func TestWorkerAnswerIsBounded(t *testing.T) {
	big := `{"token":"eyJ.` + strings.Repeat("x", maxResponseBytes) + `.y"}`
	res := runCLI(map[string]string{"BROKER_URL": answering(t, big), "BROKER_RUN_TOKEN": "brk_run_x"}, "token")
	if res.code != exitError || res.stdout != "" {
		t.Errorf("exit %d, %d bytes on stdout; want 1 and nothing", res.code, len(res.stdout))
	}
}

// TestBrokerHTTPIsBounded pins the CLI's HTTP client: every call is bounded by callTimeout (a
// broker that never answers cannot hang a run) and follows no redirect.
// Guards against: client.go:49 Timeout: callTimeout dropped
func TestBrokerHTTPIsBounded(t *testing.T) {
	c := brokerHTTP()
	if c.Timeout != callTimeout || c.Timeout <= 0 {
		t.Errorf("timeout %v, want %v", c.Timeout, callTimeout)
	}
	if c.CheckRedirect == nil {
		t.Error("follows redirects")
	}
}

// TestWorkerRequestBodies pins what broker token and broker credentials ask the broker: the path,
// and the body naming the provider, the --integration and the --audience given (empty when left
// out, for the broker's default).
// Guards against: credentials.go:63 "integration": *integration -> "" (the integration asked for is
// dropped)
// Guards against: token.go:81 "audience": *audience dropped
func TestWorkerRequestBodies(t *testing.T) {
	var gotPath string
	var gotBody map[string]string
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotPath, gotBody = r.URL.Path, nil
		_ = json.NewDecoder(r.Body).Decode(&gotBody)
		if r.URL.Path == "/v1/token" {
			_, _ = w.Write([]byte(`{"token":"eyJ.x.y","expiresAt":"2030-01-01T00:00:00Z"}`))
			return
		}
		_, _ = w.Write([]byte(`{"provider":"vault","env":{"VAULT_ADDR":"http://v","VAULT_TOKEN":"hvs.x"}}`))
	}))
	t.Cleanup(ts.Close)
	cases := []struct {
		args []string
		path string
		body map[string]string
	}{
		{[]string{"credentials", "vault", "--integration", "vault-b"}, "/v1/credentials", map[string]string{"provider": "vault", "integration": "vault-b"}},
		{[]string{"credentials", "--integration", "vault-b", "vault", "--format", "json"}, "/v1/credentials", map[string]string{"provider": "vault", "integration": "vault-b"}},
		{[]string{"credentials", "vault"}, "/v1/credentials", map[string]string{"provider": "vault", "integration": ""}},
		{[]string{"token", "--audience", "sts.amazonaws.com"}, "/v1/token", map[string]string{"audience": "sts.amazonaws.com"}},
		{[]string{"token", "--format", "json"}, "/v1/token", map[string]string{"audience": ""}},
	}
	for _, tc := range cases {
		res := runCLI(map[string]string{"BROKER_URL": ts.URL, "BROKER_RUN_TOKEN": "brk_run_x"}, tc.args...)
		if res.code != exitOK {
			t.Fatalf("broker %q: exit %d, stderr %q", tc.args, res.code, res.stderr)
		}
		if gotPath != tc.path || !reflect.DeepEqual(gotBody, tc.body) {
			t.Errorf("broker %q: asked %s %v, want %s %v", tc.args, gotPath, gotBody, tc.path, tc.body)
		}
	}
}
