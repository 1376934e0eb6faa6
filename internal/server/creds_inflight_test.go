package server

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	awsemu "github.com/brokerhq/broker/internal/emulator/aws"
	"github.com/brokerhq/broker/internal/testutil/redistest"
)

// TestCredentialsOfARunThatChangedDuringTheExchange: a run that finishes, or moves to another
// phase, while its credentials are being exchanged does not get them: the request answers 401
// (the token no longer works) or 409, and the trail records the credentials as not handed out,
// never as issued after the change.
func TestCredentialsOfARunThatChangedDuringTheExchange(t *testing.T) {
	cases := []struct {
		name string
		// from is the run's phase when it asks; change moves it on during the exchange.
		from     string
		change   func(t *testing.T, ts *testServer, id string) int
		wantCode int
	}{
		{"finished during a write exchange", "APPLYING", func(t *testing.T, ts *testServer, id string) int {
			return ts.call(t, apiRequest{method: "POST", path: "/v1/runs/" + id + "/finish", bearer: adminSecret})
		}, 401},
		{"moved to apply during a read exchange", "PLANNING", func(t *testing.T, ts *testServer, id string) int {
			return ts.setPhase(t, id, "APPLYING")
		}, 409},
	}
	for _, store := range []string{"memory", "redis"} {
		for _, c := range cases {
			t.Run(store+"/"+c.name, func(t *testing.T) {
				emu, late := startEmulator(t)
				opts := serverOptions{extraYAML: fmt.Sprintf(`
integrations:
  - {id: aws-read, space: prod, aws: {role_arn: "arn:aws:iam::123456789012:role/vpc-read", sts_endpoint: %[1]q}}
  - {id: aws-write, space: prod, aws: {role_arn: "arn:aws:iam::123456789012:role/vpc-write", sts_endpoint: %[1]q}}
attachments:
  - {stack: vpc-prod, integration: aws-read, read: true}
  - {stack: vpc-prod, integration: aws-write, write: true}
`, emu.URL)}
				if store == "redis" {
					opts.redisURL, opts.keyBackend = redistest.Start(t).URL(), "redis"
				}
				ts := startServer(t, opts)
				sts := awsemu.New(awsemu.Config{Roles: []awsemu.Role{
					{ARN: "arn:aws:iam::123456789012:role/vpc-read", Trust: awsemu.Trust{Issuer: ts.URL, Audiences: []string{"sts.amazonaws.com"},
						Subject: "space:prod:stack:vpc-prod:run_type:*:scope:read"}},
					{ARN: "arn:aws:iam::123456789012:role/vpc-write", Trust: awsemu.Trust{Issuer: ts.URL, Audiences: []string{"sts.amazonaws.com"},
						Subject: "space:prod:stack:vpc-prod:run_type:*:scope:write"}},
				}})
				entered, gate := holdUpstream(late, sts) // the exchange is in flight until the test has changed the run
				run := ts.createRun(t, "vpc-prod", "TRACKED")
				for _, p := range []string{"PLANNING", "APPLYING"} {
					if code := ts.setPhase(t, run.Run.ID, p); code != 200 {
						t.Fatalf("move to %s: %d", p, code)
					}
					if p == c.from {
						break
					}
				}
				done := credentialsLater(t, ts, run.RunToken, "aws")
				<-entered
				if code := c.change(t, ts, run.Run.ID); code != 200 {
					t.Fatalf("changing the run during the exchange: %d", code)
				}
				close(gate)
				res := <-done
				if res.code != c.wantCode || res.ans.Env["AWS_ACCESS_KEY_ID"] != "" {
					t.Errorf("credentials exchanged while the run changed: %d %+v (env %v), want %d and nothing handed out", res.code, res.env.Error, res.ans.Env, c.wantCode)
				}
				if len(sts.Calls()) != 1 {
					t.Fatalf("%d STS calls, want the one held", len(sts.Calls()))
				}
				var trail []string
				for _, e := range auditEvents(t, ts, "root", 100) {
					if e.Run == run.Run.ID {
						trail = append(trail, e.Action+":"+e.Outcome)
					}
				}
				got := strings.Join(trail, " ")
				if !strings.HasSuffix(got, "credentials.issue:denied") || strings.Contains(got, "credentials.issue:success") {
					t.Errorf("the run's trail: %s; want the credentials recorded as not handed out after the change", got)
				}
			})
		}
	}
}

// TestCredentialsAnsweredBeforeTheWriteTimeout: an exchange whose integration allows more time
// than the server has to write its answer (timeout 5s, http.write_timeout 2s) against an
// upstream that never answers is cut short in time to answer 502 in the envelope, instead of
// the connection closing with no answer at all.
func TestCredentialsAnsweredBeforeTheWriteTimeout(t *testing.T) {
	ts, run := hungUpstreamServer(t)
	start := time.Now()
	_, code, env := ts.credentials(t, run.RunToken, "vault", "")
	if code != 502 || env.Error.Code != "upstream_error" {
		t.Errorf("an exchange longer than the write timeout: %d %+v after %v, want 502 upstream_error", code, env.Error, time.Since(start).Round(time.Millisecond))
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("answered after %v, past the write timeout", d)
	}
}

// holdUpstream makes late answer as upstream, each call held until the test closes gate;
// entered is closed when the first call arrives.
func holdUpstream(late *lateHandler, upstream http.Handler) (entered, gate chan struct{}) {
	entered, gate = make(chan struct{}), make(chan struct{})
	var once sync.Once
	late.set(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		once.Do(func() { close(entered) })
		<-gate
		upstream.ServeHTTP(w, r)
	}))
	return entered, gate
}

// credentialsResult is what ts.credentials answered.
type credentialsResult struct {
	ans  credentialsAnswer
	code int
	env  envelope
}

// credentialsLater asks ts for the credentials of provider for the run of token in the
// background, and hands its answer over on the channel it returns.
func credentialsLater(t *testing.T, ts *testServer, token, provider string) <-chan credentialsResult {
	done := make(chan credentialsResult, 1)
	go func() {
		var r credentialsResult
		defer func() { done <- r }() // sent even when ts.credentials fails t in this goroutine
		r.ans, r.code, r.env = ts.credentials(t, token, provider, "")
	}()
	return done
}

// hungUpstreamServer starts a server (http.write_timeout 2s) whose integration vault-read
// (timeout 5s), attached to vpc-prod for read, reaches an upstream that never answers, and
// starts a TRACKED run of vpc-prod; the upstream is let go when the test ends.
func hungUpstreamServer(t *testing.T) (*testServer, runAnswer) {
	t.Helper()
	hung := make(chan struct{})
	emu, late := startEmulator(t)
	late.set(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-hung }))
	ts := startServer(t, serverOptions{extraYAML: fmt.Sprintf(`
http: {write_timeout: 2s}
integrations:
  - {id: vault-read, space: prod, vault: {address: %q, role: r}, timeout: 5s}
attachments:
  - {stack: vpc-prod, integration: vault-read, read: true}
`, emu.URL)})
	t.Cleanup(func() { close(hung) }) // after startServer's: runs before the server closes
	return ts, ts.createRun(t, "vpc-prod", "TRACKED")
}
