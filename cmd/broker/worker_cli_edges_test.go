package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// brokenStdout is a stdout whose every write fails, as a closed pipe does.
type brokenStdout struct{}

func (brokenStdout) Write([]byte) (int, error) { return 0, errors.New("broken pipe") }

// TestWorkerOutputWriteFailureExits1 checks that broker token and broker credentials exit
// 1 with one line on stderr when the answer cannot be written to stdout (a closed pipe, a full
// disk): a script must never take a run without its token or credentials for a success.
// Guards against: token.go raw output's write error dropped (return nil)
// Guards against: credentials.go env output's write error dropped
func TestWorkerOutputWriteFailureExits1(t *testing.T) {
	const awsAnswer = `{"provider":"aws","expiresAt":"2030-01-01T00:00:00Z","env":{` +
		`"AWS_ACCESS_KEY_ID":"AKIA","AWS_SECRET_ACCESS_KEY":"k","AWS_SESSION_TOKEN":"t"}}`
	const tokAnswer = `{"token":"eyJh.eyJi.sig","expiresAt":"2030-01-01T00:00:00Z"}`
	cases := []struct {
		answer string
		args   []string
	}{
		{tokAnswer, []string{"token"}},
		{tokAnswer, []string{"token", "--format", "json"}},
		{tokAnswer, []string{"token", "--format", "gcp-executable"}},
		{awsAnswer, []string{"credentials", "aws"}},
		{awsAnswer, []string{"credentials", "aws", "--format", "json"}},
		{awsAnswer, []string{"credentials", "aws", "--format", "credential-process"}},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			url := answering(t, tc.answer)
			getenv := func(k string) string {
				return map[string]string{"BROKER_URL": url, "BROKER_RUN_TOKEN": "brk_run_x"}[k]
			}
			var errb bytes.Buffer
			e := env{stdout: brokenStdout{}, stderr: &errb, getenv: getenv}
			code := run(context.Background(), e, tc.args)
			if code != exitError {
				t.Fatalf("exit %d, want 1; stderr %q", code, errb.String())
			}
			if strings.Count(strings.TrimSpace(errb.String()), "\n") != 0 || errb.Len() == 0 {
				t.Errorf("stderr %q, want one line", errb.String())
			}
		})
	}
}

// TestCredentialsUnknownFormatIsUsage checks that broker credentials refuses a --format it
// does not know as a usage error (exit 2, one line on stderr naming --format), before anything
// is asked of the broker, for every provider.
// Guards against: credentials.go unknown --format returned as an operational error (usagef ->
// fmt.Errorf)
func TestCredentialsUnknownFormatIsUsage(t *testing.T) {
	var asked atomic.Int32
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		http.Error(w, `{"error":{"code":"not_found","message":"no"}}`, http.StatusNotFound)
	}))
	t.Cleanup(ts.Close)
	vars := map[string]string{"BROKER_URL": ts.URL, "BROKER_RUN_TOKEN": "brk_run_x"}
	cases := [][]string{
		{"credentials", "aws", "--format", "xml"},
		{"credentials", "--format", "yaml", "gcp"},
		{"credentials", "vault", "--format=raw"},
	}
	for _, args := range cases {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			r := runCLI(vars, args...)
			if r.code != exitUsage || r.stdout != "" {
				t.Fatalf("exit %d, stdout %q, stderr %q; want 2", r.code, r.stdout, r.stderr)
			}
			if !strings.Contains(r.stderr, "--format") || strings.Count(r.stderr, "\n") != 1 {
				t.Errorf("stderr %q, want one line naming --format", r.stderr)
			}
		})
	}
	if n := asked.Load(); n != 0 {
		t.Errorf("the broker was asked %d times before the usage error", n)
	}
}

// TestCredentialsFormatSecretNotRepeated checks that a secret given as the value of
// broker credentials --format (a variable that expanded to the wrong thing) is a usage error
// (exit 2) that does not repeat it on stderr, which CI logs keep.
// Guards against: credentials.go shownArg(*format) -> *format
func TestCredentialsFormatSecretNotRepeated(t *testing.T) {
	const runToken = "brk_run_Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MDEyMzQ1Njc4OTA"
	vars := map[string]string{"BROKER_URL": "http://127.0.0.1:1", "BROKER_RUN_TOKEN": "brk_run_x"}
	cases := [][]string{
		{"credentials", "aws", "--format", runToken},
		{"credentials", "--format=" + runToken, "gcp"},
	}
	for _, args := range cases {
		r := runCLI(vars, args...)
		if r.code != exitUsage {
			t.Fatalf("broker %q: exit %d, want 2; stderr %q", args, r.code, r.stderr)
		}
		if strings.Contains(r.stdout+r.stderr, runToken[:12]) {
			t.Errorf("the secret is repeated: %q", r.stderr)
		}
	}
}

// TestRunTokenUnsetIsUsage checks that the worker commands refuse a BROKER_RUN_TOKEN that
// is unset or only white space, with BROKER_URL set, as a usage error (exit 2) naming the
// variable, before anything is sent to the broker.
// Guards against: client.go brokerEnv case secret == "" dropped (a request without a token, exit 1)
func TestRunTokenUnsetIsUsage(t *testing.T) {
	var asked atomic.Int32
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"error":{"code":"unauthenticated","message":"no token"}}`))
	}))
	t.Cleanup(ts.Close)
	commands := [][]string{{"token"}, {"token", "--format", "json"}, {"credentials", "aws"}}
	for _, tok := range []string{"", " \n"} {
		for _, args := range commands {
			r := runCLI(map[string]string{"BROKER_URL": ts.URL, "BROKER_RUN_TOKEN": tok}, args...)
			if r.code != exitUsage || !strings.Contains(r.stderr, "BROKER_RUN_TOKEN is not set") {
				t.Errorf("broker %q with BROKER_RUN_TOKEN %q: exit %d, stderr %q; want 2 naming it",
					args, tok, r.code, r.stderr)
			}
		}
	}
	if n := asked.Load(); n != 0 {
		t.Errorf("the broker was asked %d times without a run token", n)
	}
}

// TestErrorAnswerWithoutEnvelope checks that an error answer the broker's envelope does not
// describe (a proxy's page, an empty object) is reported with its HTTP status, exit 1, and
// under a Google library as the failure code "unknown".
// Guards against: client.go answerError env.Error.Code == "" check dropped (empty code and message)
func TestErrorAnswerWithoutEnvelope(t *testing.T) {
	bodies := []string{`{}`, `{"error":{"message":"half"}}`, `<html>bad gateway</html>`}
	for _, body := range bodies {
		ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusBadGateway)
			_, _ = w.Write([]byte(body))
		}))
		vars := map[string]string{"BROKER_URL": ts.URL, "BROKER_RUN_TOKEN": "brk_run_x"}
		r := runCLI(vars, "token")
		if r.code != exitError || !strings.Contains(r.stderr, "broker answered 502 Bad Gateway") {
			t.Errorf("body %s: exit %d, stderr %q; want 1 and the status", body, r.code, r.stderr)
		}
		vars[envGoogleAudience] = "//iam.googleapis.com/projects/1/x"
		r = runCLI(vars, "token", "--format", "gcp-executable")
		if r.code != exitOK || !strings.Contains(r.stdout, `"code":"unknown"`) {
			t.Errorf("body %s, gcp-executable: exit %d, stdout %q; want code unknown",
				body, r.code, r.stdout)
		}
		ts.Close()
	}
}

// TestUnreachableBrokerNamedOnce checks that the error of a broker that cannot be reached
// names its address once, on one line: the HTTP client's "Post <url>:" prefix is dropped.
// Guards against: client.go unwrapURLError returns err unchanged
func TestUnreachableBrokerNamedOnce(t *testing.T) {
	ts := httptest.NewServer(http.NotFoundHandler())
	url := ts.URL
	ts.Close() // nothing listens there any more
	r := runCLI(map[string]string{"BROKER_URL": url, "BROKER_RUN_TOKEN": "brk_run_x"}, "token")
	if r.code != exitError || !strings.Contains(r.stderr, "cannot reach broker at "+url) {
		t.Fatalf("exit %d, stderr %q; want 1 and the address", r.code, r.stderr)
	}
	if n := strings.Count(r.stderr, url); n != 1 {
		t.Errorf("stderr names the address %d times: %q", n, r.stderr)
	}
}

// TestWorkerRequestIsJSON checks that broker token and broker credentials send their body
// as the contract's API requires: Content-Type application/json.
// Guards against: client.go Content-Type header changed or dropped
func TestWorkerRequestIsJSON(t *testing.T) {
	var got []string
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.Header.Get("Content-Type"))
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"error":{"code":"not_found","message":"none"}}`))
	}))
	t.Cleanup(ts.Close)
	vars := map[string]string{"BROKER_URL": ts.URL, "BROKER_RUN_TOKEN": "brk_run_x"}
	runCLI(vars, "token")
	runCLI(vars, "credentials", "vault")
	if len(got) != 2 || got[0] != "application/json" || got[1] != "application/json" {
		t.Errorf("Content-Type of the requests %q, want application/json twice", got)
	}
}

// TestGCPFailureMessageIsOneLine checks that the message of the failure response broker
// token --format gcp-executable prints for a broker's error is one line, also when the broker's
// message holds line breaks: Google's libraries print it as the reason of the failure.
// Guards against: gcpexecutable.go gcpFailure Message: oneLine(callErr.Error()) -> callErr.Error()
func TestGCPFailureMessageIsOneLine(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte(`{"error":{"code":"forbidden","message":"no\nmore\ntokens"}}`))
	}))
	t.Cleanup(ts.Close)
	vars := map[string]string{"BROKER_URL": ts.URL, "BROKER_RUN_TOKEN": "brk_run_x",
		envGoogleAudience: "//iam.googleapis.com/projects/1/x"}
	r := runCLI(vars, "token", "--format", "gcp-executable")
	var resp gcpExecutableResponse
	if r.code != exitOK || json.Unmarshal([]byte(r.stdout), &resp) != nil {
		t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if resp.Code != "forbidden" || strings.Contains(resp.Message, "\n") ||
		!strings.Contains(resp.Message, "no; more; tokens") {
		t.Errorf("response %+v, want code forbidden and the message on one line", resp)
	}
}
