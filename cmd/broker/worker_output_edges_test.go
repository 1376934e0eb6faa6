package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
)

// fullAWSAnswer is a complete broker answer to an aws credentials request whose secrets are
// secretValue, with an expiry written in a zone other than UTC.
const fullAWSAnswer = `{"provider":"aws","expiresAt":"2030-01-01T02:00:00+02:00","env":{"AWS_ACCESS_KEY_ID":"AKIAEXAMPLE","AWS_SECRET_ACCESS_KEY":"` +
	secretValue + `","AWS_SESSION_TOKEN":"` + secretValue + `"}}`

// TestWorkerSecretsOnlyOnStdout pins where the worker commands print a successful answer:
// on stdout alone. stderr stays empty (CI logs keep it, and a Google library reads it as part of
// the answer), in every format of broker token and broker credentials.
// Guards against: credentials.go:runCredentials --format json also writes the answer to stderr
func TestWorkerSecretsOnlyOnStdout(t *testing.T) {
	tokenAnswer := `{"token":"eyJh.` + secretValue + `.sig","expiresAt":"2030-01-01T00:00:00Z"}`
	cases := []struct {
		answer string
		args   []string
	}{
		{tokenAnswer, []string{"token"}},
		{tokenAnswer, []string{"token", "--format", "json"}},
		{tokenAnswer, []string{"token", "--format", "gcp-executable"}},
		{fullAWSAnswer, []string{"credentials", "aws"}},
		{fullAWSAnswer, []string{"credentials", "aws", "--format", "json"}},
		{fullAWSAnswer, []string{"credentials", "aws", "--format", "credential-process"}},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			r := runCLI(map[string]string{"BROKER_URL": answering(t, tc.answer), "BROKER_RUN_TOKEN": "brk_run_x"}, tc.args...)
			if r.code != exitOK || !strings.Contains(r.stdout, secretValue) {
				t.Fatalf("exit %d, stdout %q, stderr %q; want 0 and the answer on stdout", r.code, r.stdout, r.stderr)
			}
			if r.stderr != "" {
				t.Errorf("stderr %q, want nothing", r.stderr)
			}
		})
	}
}

// TestCredentialProcessDocument pins the document --format credential-process prints to
// the one the AWS SDKs read: Version 1, the three keys, and Expiration in RFC 3339 in UTC,
// whatever zone the broker wrote its expiry in.
// Guards against: credentials.go:runCredentials Version: 1 -> 2
// Guards against: credentials.go:runCredentials ans.ExpiresAt.UTC().Format -> ans.ExpiresAt.Format
func TestCredentialProcessDocument(t *testing.T) {
	r := runCLI(map[string]string{"BROKER_URL": answering(t, fullAWSAnswer), "BROKER_RUN_TOKEN": "brk_run_x"},
		"credentials", "aws", "--format", "credential-process")
	want := `{"Version":1,"AccessKeyId":"AKIAEXAMPLE","SecretAccessKey":"` + secretValue + `","SessionToken":"` + secretValue +
		`","Expiration":"2030-01-01T00:00:00Z"}` + "\n"
	if r.code != exitOK || r.stdout != want {
		t.Errorf("exit %d, stdout %q, stderr %q; want 0 and %q", r.code, r.stdout, r.stderr, want)
	}
}

// TestMalformedAnswerNotEchoed pins that a 200 answer which is not the JSON expected (cut
// short by a proxy, say) is an error (exit 1) whose message does not repeat the answer, which
// holds the token or the credentials.
// Guards against: client.go:post the JSON error message quotes the raw answer
func TestMalformedAnswerNotEchoed(t *testing.T) {
	cases := []struct {
		answer string
		args   []string
	}{
		{`{"token":"eyJh.` + secretValue + `.sig"`, []string{"token"}},
		{`{"provider":"aws","env":{"AWS_SECRET_ACCESS_KEY":"` + secretValue + `"`, []string{"credentials", "aws"}},
	}
	for _, tc := range cases {
		t.Run(tc.args[0], func(t *testing.T) {
			r := runCLI(map[string]string{"BROKER_URL": answering(t, tc.answer), "BROKER_RUN_TOKEN": "brk_run_x"}, tc.args...)
			if r.code != exitError || r.stdout != "" || !strings.Contains(r.stderr, "not the expected JSON") {
				t.Errorf("exit %d, stdout %q, stderr %q; want 1 and the error on stderr", r.code, r.stdout, r.stderr)
			}
			if strings.Contains(r.stderr, secretValue) {
				t.Errorf("stderr repeats the answer: %q", r.stderr)
			}
		})
	}
}

// TestWorkerTakesOnly200 pins that the worker commands take an answer as the broker's only
// when its status is 200: any other status, a 2xx the broker never sends (such as 203 from a
// transforming proxy) or a 3xx without Location, is an error (exit 1) and its body, however
// complete, is never printed.
// Guards against: client.go:post resp.StatusCode != http.StatusOK -> resp.StatusCode >= 400
func TestWorkerTakesOnly200(t *testing.T) {
	for _, status := range []int{http.StatusNonAuthoritativeInfo, http.StatusMultipleChoices} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(status)
				_, _ = w.Write([]byte(`{"token":"eyJh.eyJi.sig","expiresAt":"2030-01-01T00:00:00Z"}`))
			}))
			t.Cleanup(ts.Close)
			r := runCLI(map[string]string{"BROKER_URL": ts.URL, "BROKER_RUN_TOKEN": "brk_run_x"}, "token")
			if r.code != exitError || r.stdout != "" {
				t.Errorf("exit %d, stdout %q, stderr %q; want 1 and nothing printed", r.code, r.stdout, r.stderr)
			}
		})
	}
}

// TestTrustPrintsConditionsAsWritten pins that broker trust prints a document's text as
// it will be pasted (into gcloud's --attribute-condition, for one): '&', '<' and '>' stay as
// they are, never escaped to \u0026 and the like.
// Guards against: trust.go:runTrust enc.SetEscapeHTML(false) dropped
func TestTrustPrintsConditionsAsWritten(t *testing.T) {
	path := writeFile(t, "broker.yaml", `issuer: https://broker.example.com
listen: 127.0.0.1:0
spaces: [{id: root}]
stacks: [{id: s1, space: root}]
integrations:
  - {id: g, space: root, gcp: {workload_identity_provider: "projects/1/locations/global/workloadIdentityPools/pool/providers/prov", service_account: "sa@p.iam.gserviceaccount.com"}}
attachments:
  - {stack: s1, integration: g, write: true}
`)
	r := runCLI(nil, "trust", "gcp", "--config", path, "--stack", "s1", "--scope", "write")
	if r.code != exitOK || !strings.Contains(r.stdout, `&&`) || strings.Contains(r.stdout, `\u00`) {
		t.Errorf("exit %d, stdout %q, stderr %q; want 0 and the condition's && as written", r.code, r.stdout, r.stderr)
	}
}

// TestInputLongerThanItsSize pins readInput's bound on what it reads, not only on the size
// the file reports: a regular file that reports 0 bytes and holds more than the limit (a procfs
// file, or one that grew after it was opened) is refused, never returned cut to the limit nor
// returned whole.
// Guards against: files.go:readInput int64(len(data)) > limit check dropped
// Guards against: files.go:readInput io.LimitReader(f, limit+1) -> io.LimitReader(f, limit)
func TestInputLongerThanItsSize(t *testing.T) {
	const path = "/proc/self/status"
	if info, err := os.Stat(path); err != nil || !info.Mode().IsRegular() || info.Size() != 0 {
		t.Skip("no procfs file reporting 0 bytes here")
	}
	data, err := readInput(path, 16)
	if err == nil || !strings.Contains(err.Error(), "grew past") {
		t.Errorf("readInput = %d bytes, %v; want the file refused as longer than 16 bytes", len(data), err)
	}
}
