package server

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	awsemu "github.com/brokerhq/broker/internal/emulator/aws"
)

// awsObserved is a server with aws-read (trusted for vpc-prod's read runs) and aws-write
// attached to app-a for reading, which STS refuses: one integration that succeeds, one denied.
func awsObserved(t *testing.T) (*testServer, *awsemu.Emulator) {
	t.Helper()
	emu, late := startEmulator(t)
	ts := startServer(t, serverOptions{extraYAML: fmt.Sprintf(`
integrations:
  - {id: aws-read, space: prod, aws: {role_arn: "arn:aws:iam::123456789012:role/vpc-read", sts_endpoint: %[1]q}}
  - {id: aws-write, space: prod, aws: {role_arn: "arn:aws:iam::123456789012:role/vpc-write", sts_endpoint: %[1]q}}
attachments:
  - {stack: vpc-prod, integration: aws-read, read: true}
  - {stack: app-a, integration: aws-write, read: true}
`, emu.URL)})
	sts := awsemu.New(awsemu.Config{Roles: []awsemu.Role{
		{ARN: "arn:aws:iam::123456789012:role/vpc-read", Trust: awsemu.Trust{Issuer: ts.URL, Audiences: []string{"sts.amazonaws.com"},
			Subject: "space:prod:stack:vpc-prod:run_type:*:scope:read"}},
		{ARN: "arn:aws:iam::123456789012:role/vpc-write", Trust: awsemu.Trust{Issuer: ts.URL, Audiences: []string{"sts.amazonaws.com"},
			Subject: "space:prod:stack:vpc-prod:run_type:*:scope:write"}},
	}})
	late.set(sts)
	return ts, sts
}

// sample is one line of the Prometheus text format.
type sample struct {
	name   string
	labels map[string]string
	value  float64
}

var sampleLine = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$`)
var labelPair = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"`)

// scrape reads GET /metrics.
func scrape(t *testing.T, ts *testServer) []sample {
	t.Helper()
	resp, err := http.Get(ts.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var out []sample
	for _, line := range strings.Split(string(body), "\n") {
		m := sampleLine.FindStringSubmatch(line)
		if m == nil || strings.HasPrefix(line, "#") {
			continue
		}
		v, err := strconv.ParseFloat(m[3], 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		s := sample{name: m[1], labels: map[string]string{}, value: v}
		for _, p := range labelPair.FindAllStringSubmatch(m[2], -1) {
			s.labels[p[1]] = p[2]
		}
		out = append(out, s)
	}
	return out
}

// value returns the value of the sample name{labels}, failing when there is none.
func value(t *testing.T, samples []sample, name string, labels ...string) float64 {
	t.Helper()
next:
	for _, s := range samples {
		if s.name != name || len(s.labels) != len(labels)/2 {
			continue
		}
		for i := 0; i < len(labels); i += 2 {
			if s.labels[labels[i]] != labels[i+1] {
				continue next
			}
		}
		return s.value
	}
	t.Fatalf("no sample %s%v", name, labels)
	return 0
}

func TestMetricsAfterTokensAndExchanges(t *testing.T) {
	ts, sts := awsObserved(t)
	run := ts.createRun(t, "vpc-prod", "TRACKED")
	for range 2 {
		if _, code := ts.mint(t, run.RunToken, ""); code != 200 {
			t.Fatalf("token: %d", code)
		}
	}
	if _, code, env := ts.credentials(t, run.RunToken, "aws", ""); code != 200 {
		t.Fatalf("credentials: %d %+v", code, env.Error)
	}
	sts.FailNext(3, http.StatusServiceUnavailable, "ServiceUnavailable") // every attempt fails
	if _, code, _ := ts.credentials(t, run.RunToken, "aws", ""); code != 502 {
		t.Fatalf("credentials with STS down: %d, want 502", code)
	}
	other := ts.createRun(t, "app-a", "TRACKED")
	if _, code, _ := ts.credentials(t, other.RunToken, "aws", ""); code != 502 {
		t.Fatalf("refused credentials: %d, want 502", code)
	}
	if code := ts.setPhase(t, run.Run.ID, "APPLYING"); code != 200 {
		t.Fatal(code)
	}
	if _, code := ts.mint(t, run.RunToken, ""); code != 200 {
		t.Fatalf("write token: %d", code)
	}

	samples := scrape(t, ts)
	// Read: two handed out, three sent to STS (one per exchange); write: one handed out.
	if got := value(t, samples, "broker_tokens_issued_total", "scope", "read"); got != 5 {
		t.Errorf("read tokens issued = %v, want 5", got)
	}
	if got := value(t, samples, "broker_tokens_issued_total", "scope", "write"); got != 1 {
		t.Errorf("write tokens issued = %v, want 1", got)
	}
	for _, p := range []string{"aws", "gcp", "azure", "vault"} {
		want := map[string]float64{"success": 0, "denied": 0, "error": 0}
		if p == "aws" {
			want = map[string]float64{"success": 1, "denied": 1, "error": 1}
		}
		for outcome, n := range want {
			if got := value(t, samples, "broker_credentials_total", "provider", p, "outcome", outcome); got != n {
				t.Errorf("broker_credentials_total{provider=%s,outcome=%s} = %v, want %v", p, outcome, got, n)
			}
		}
	}
	if got := value(t, samples, "broker_exchange_duration_seconds_count", "provider", "aws"); got != 3 {
		t.Errorf("aws exchange duration count = %v, want 3", got)
	}
	if got := value(t, samples, "broker_exchange_duration_seconds_sum", "provider", "aws"); got <= 0 {
		t.Errorf("aws exchange duration sum = %v", got)
	}
	if age := value(t, samples, "broker_signing_key_age_seconds"); age < 0 || age > 600 {
		t.Errorf("signing key age = %vs, want the age of a key made at start", age)
	}
	if gen := value(t, samples, "broker_signing_keys_generation"); gen < 1 {
		t.Errorf("key set generation = %v", gen)
	}
	value(t, samples, "broker_catalog_revision")

	// No label carries a value that grows without bound: only known label names, and never a
	// run id, a stack id or a secret.
	allowed := map[string]bool{"route": true, "code": true, "scope": true, "provider": true, "outcome": true, "le": true}
	unbounded := []string{run.Run.ID, other.Run.ID, "vpc-prod", "app-a", run.RunToken}
	for _, s := range samples {
		if !strings.HasPrefix(s.name, "broker_") {
			continue
		}
		for k, v := range s.labels {
			if !allowed[k] {
				t.Errorf("%s has label %s=%q", s.name, k, v)
			}
			for _, u := range unbounded {
				if strings.Contains(v, u) {
					t.Errorf("%s has label %s=%q, holding a run or stack id", s.name, k, v)
				}
			}
		}
	}
}

// logLines decodes the JSON log lines from offset on.
func logLines(t *testing.T, logs string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		if line == "" {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not JSON: %s", line)
		}
		out = append(out, rec)
	}
	return out
}

// requestWithID sends POST /v1/credentials for provider with X-Request-Id id (none when empty)
// and returns the status, the X-Request-Id answered and the log lines written meanwhile.
func requestWithID(t *testing.T, ts *testServer, runToken, id string) (int, string, []map[string]any) {
	t.Helper()
	before := len(ts.Logs.String())
	req, _ := http.NewRequest(http.MethodPost, ts.URL+"/v1/credentials", strings.NewReader(`{"provider": "aws"}`))
	req.Header.Set("Authorization", "Bearer "+runToken)
	req.Header.Set("Content-Type", "application/json")
	if id != "" {
		req.Header.Set("X-Request-Id", id)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	// The request line is written once the handler returns, which may be after the answer
	// left (credentials are flushed before): wait for it, a moment at most.
	id = resp.Header.Get("X-Request-Id")
	for by := time.Now().Add(2 * time.Second); time.Now().Before(by); time.Sleep(5 * time.Millisecond) {
		if strings.Contains(ts.Logs.String()[before:], `"path":"/v1/credentials"`) {
			break
		}
	}
	return resp.StatusCode, id, logLines(t, ts.Logs.String()[before:])
}

func TestEveryLogLineOfARequestCarriesItsID(t *testing.T) {
	ts, _ := awsObserved(t)
	ok := ts.createRun(t, "vpc-prod", "TRACKED")
	refused := ts.createRun(t, "app-a", "TRACKED")
	tests := []struct {
		name, runToken, sent string
		status               int
		keep                 bool // the id sent is the id used
		outcome              string
	}{
		{"caller's id, success", ok.RunToken, "ci-job-7.step_2", 200, true, "success"},
		{"caller's id, refusal", refused.RunToken, "A1B2C3", 502, true, "denied"},
		{"no id", ok.RunToken, "", 200, false, "success"},
		{"id with a space", ok.RunToken, "a b", 200, false, "success"},
		{"id with a quote", ok.RunToken, `a"b`, 200, false, "success"},
		{"id too long", ok.RunToken, strings.Repeat("x", 65), 200, false, "success"},
	}
	seen := map[string]bool{}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, echoed, lines := requestWithID(t, ts, tc.runToken, tc.sent)
			if status != tc.status {
				t.Fatalf("status %d, want %d", status, tc.status)
			}
			if tc.keep && echoed != tc.sent {
				t.Errorf("X-Request-Id = %q, want the caller's %q", echoed, tc.sent)
			}
			if !tc.keep && (echoed == tc.sent || echoed == "" || !regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`).MatchString(echoed)) {
				t.Errorf("X-Request-Id = %q, want a fresh well-formed id", echoed)
			}
			if seen[echoed] {
				t.Errorf("request id %q used twice", echoed)
			}
			seen[echoed] = true
			var exchangeLine, requestLine map[string]any
			for _, l := range lines {
				if l["msg"] == "request" && strings.HasPrefix(fmt.Sprint(l["path"]), "/.well-known/") {
					continue // STS fetching broker's keys meanwhile: requests of their own
				}
				if l["request_id"] != echoed {
					t.Errorf("log line without the request's id %q: %v", echoed, l)
				}
				switch l["msg"] {
				case "exchange":
					exchangeLine = l
				case "request":
					requestLine = l
				}
			}
			if exchangeLine == nil || requestLine == nil {
				t.Fatalf("want an exchange line and a request line, got %v", lines)
			}
			if exchangeLine["outcome"] != tc.outcome || exchangeLine["provider"] != "aws" || exchangeLine["stack"] == "" {
				t.Errorf("exchange line = %v", exchangeLine)
			}
			if tc.outcome == "denied" && (exchangeLine["upstream_status"] != 403.0 || !strings.Contains(fmt.Sprint(exchangeLine["err"]), "AccessDenied")) {
				t.Errorf("the refusal's line lacks the cloud's status or message: %v", exchangeLine)
			}
		})
	}
	assertNoSecretsLogged(t, ts, map[string]string{"run token": ok.RunToken, "other run token": refused.RunToken})
}
