package server

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// sweepRoutes are every route the server mounts, with concrete ids.
func sweepRoutes(runID string) []struct{ method, path string } {
	return []struct{ method, path string }{
		{"GET", "/.well-known/openid-configuration"}, {"GET", "/.well-known/jwks"},
		{"GET", "/healthz"}, {"GET", "/readyz"}, {"GET", "/metrics"},
		{"POST", "/v1/runs"}, {"GET", "/v1/runs/" + runID}, {"POST", "/v1/runs/" + runID + "/phase"},
		{"POST", "/v1/runs/" + runID + "/finish"}, {"GET", "/v1/audit"},
		{"POST", "/v1/token"}, {"POST", "/v1/credentials"},
		{"GET", "/v1/spaces"}, {"GET", "/v1/spaces/team-a"}, {"PUT", "/v1/spaces/sw-space"}, {"DELETE", "/v1/spaces/sw-nope"},
		{"GET", "/v1/stacks"}, {"GET", "/v1/stacks/vpc-prod"}, {"PUT", "/v1/stacks/sw-stack"}, {"DELETE", "/v1/stacks/sw-nope"},
		{"GET", "/v1/integrations"}, {"GET", "/v1/integrations/sw-nope"}, {"PUT", "/v1/integrations/sw-int"}, {"DELETE", "/v1/integrations/sw-nope"},
		{"GET", "/v1/roles"}, {"GET", "/v1/roles/admin"}, {"PUT", "/v1/roles/sw-role"}, {"DELETE", "/v1/roles/sw-nope"},
		{"GET", "/v1/stacks/vpc-prod/attachments"}, {"PUT", "/v1/stacks/vpc-prod/attachments/sw-nope"}, {"DELETE", "/v1/stacks/vpc-prod/attachments/sw-nope"},
		{"GET", "/v1/api-keys"}, {"POST", "/v1/api-keys"}, {"DELETE", "/v1/api-keys/sw-nope"},
	}
}

// sweepBadBodies are bodies no route may accept (each is malformed or names nothing valid).
var sweepBadBodies = []string{
	"not json", `{"a":1} garbage`, `{}{}`, `{"x":1}{"y":2}`, `[]`, `null`, `"str"`, `123`,
	strings.Repeat("[", 10000) + strings.Repeat("]", 10000),
	strings.Repeat(`{"a":`, 10000) + "1" + strings.Repeat("}", 10000),
	`{"stack":1e400}`, `{"phase":-0}`, `{"read":1.0}`, "\xff\xfe\xfd", "{\"stack\":\"vpc-prod\x00\"}",
	`{"stack":null,"runType":null}`, `{"phase":"APPLYING "}`, `{"phase":"Ａpplying"}`,
	`{"audience":"` + strings.Repeat("a", 60000) + `"}`, `{"parent":["root"]}`, `{"space":{"id":"prod"}}`,
	`{"actions":"run:read"}`, `{"bindings":null,"id":null}`, `{"provider":"AWS"}`, `{"provider":"aws","provider":"gcp"}`,
	`{"id":"sw-k","bindings":[{"role":"admin","space":"root"}],"id":"sw-k2"}`,
}

// rawAnswer is an HTTP answer as received.
type rawAnswer struct {
	status int
	header http.Header
	body   []byte
}

// rawDo sends one request with client and reads its whole answer.
func rawDo(t *testing.T, client *http.Client, method, url, bearer, body string, hdr map[string]string) (rawAnswer, error) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return rawAnswer{}, err
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		return rawAnswer{}, err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return rawAnswer{resp.StatusCode, resp.Header, raw}, nil
}

// envelopeProblem describes what is wrong with an answer, or "".
func envelopeProblem(method string, a rawAnswer) string {
	if a.status >= 500 {
		return fmt.Sprintf("status %d", a.status)
	}
	if a.status >= 400 && method != "HEAD" {
		var fields map[string]map[string]any
		if err := json.Unmarshal(a.body, &fields); err != nil || len(fields) != 1 || len(fields["error"]) != 2 {
			return fmt.Sprintf("status %d without the envelope: %.200q", a.status, a.body)
		}
		var env envelope
		_ = json.Unmarshal(a.body, &env)
		if want, ok := codeOf[a.status]; ok && env.Error.Code != want {
			return fmt.Sprintf("status %d code %q", a.status, env.Error.Code)
		}
		if ct := a.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			return fmt.Sprintf("status %d Content-Type %q", a.status, ct)
		}
	}
	if a.status == 405 && a.header.Get("Allow") == "" {
		return "405 without Allow"
	}
	return ""
}

// catalogSnapshot is every listing the root admin sees, versions included, for detecting changes.
func catalogSnapshot(t *testing.T, ts *testServer, runID string) string {
	t.Helper()
	var b strings.Builder
	client := &http.Client{Timeout: 10 * time.Second}
	for _, p := range []string{"/v1/spaces", "/v1/stacks", "/v1/integrations", "/v1/roles", "/v1/api-keys", "/v1/stacks/vpc-prod/attachments", "/v1/runs/" + runID} {
		a, err := rawDo(t, client, "GET", ts.URL+p, rootAdminSecret, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s %d %s\n", p, a.status, a.body)
	}
	return b.String()
}

// TestSweepEveryRoute sends bad bodies (malformed, ambiguous, nested 10,000 deep, out of range)
// with every kind of credential to every route, and
// every method to every path: never a 5xx, always the envelope, and nothing changes.
func TestSweepEveryRoute(t *testing.T) {
	ts := startServer(t, serverOptions{baseYAML: adminConfig})
	run := ts.createRun(t, "vpc-prod", "TRACKED")
	before := catalogSnapshot(t, ts, run.Run.ID)
	client := &http.Client{Timeout: 20 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	bearers := []string{"", rootAdminSecret, run.RunToken, "x"}
	var problems []string
	for _, rt := range sweepRoutes(run.Run.ID) {
		for _, body := range sweepBadBodies {
			for _, bearer := range bearers {
				a, err := rawDo(t, client, rt.method, ts.URL+rt.path, bearer, body, map[string]string{"Content-Type": "application/json"})
				if err != nil {
					problems = append(problems, fmt.Sprintf("%s %s body %.40q: %v", rt.method, rt.path, body, err))
					continue
				}
				if p := envelopeProblem(rt.method, a); p != "" {
					problems = append(problems, fmt.Sprintf("%s %s bearer#%d body %.40q: %s", rt.method, rt.path, len(bearer), body, p))
				}
			}
		}
		for _, m := range []string{"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE", "FOO"} {
			if strings.HasSuffix(rt.path, "/finish") && m == "POST" {
				continue // a valid request: it finishes the run
			}
			a, err := rawDo(t, client, m, ts.URL+rt.path, rootAdminSecret, "", nil)
			if err != nil {
				problems = append(problems, fmt.Sprintf("%s %s: %v", m, rt.path, err))
				continue
			}
			if p := envelopeProblem(m, a); p != "" {
				problems = append(problems, fmt.Sprintf("%s %s (method sweep): %s", m, rt.path, p))
			}
		}
	}
	for _, p := range problems {
		t.Error(p)
	}
	for _, secret := range []string{run.RunToken, rootAdminSecret, run.RunToken[len(run.RunToken)-20:]} {
		if strings.Contains(ts.Logs.String(), secret) {
			t.Errorf("the log holds a secret %.12q...", secret)
		}
		a, _ := rawDo(t, client, "GET", ts.URL+"/v1/audit?limit=1000", rootAdminSecret, "", nil)
		if strings.Contains(string(a.body), secret) {
			t.Errorf("the audit trail holds a secret %.12q...", secret)
		}
	}
	if after := catalogSnapshot(t, ts, run.Run.ID); after != before {
		t.Errorf("state changed:\nbefore %s\nafter %s", before, after)
	}
}
