package exchange

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/runs"
)

// TestLifetime pins how long credentials are asked to last: the integration's duration, or the
// upstream's default when it sets none, never longer than the run has left (rounded up to whole
// seconds), and never shorter than the upstream's floor.
// Guards against: want <= 0 changed to want < 0 (a zero duration asks for 0s) in
// exchange.go:Lifetime
// Guards against: run's remaining time not capping the lifetime in exchange.go:Lifetime
// Guards against: floor dropped (min(want, left)) in exchange.go:Lifetime
// Guards against: remaining time rounded down instead of up in exchange.go:Lifetime
func TestLifetime(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	const fallback, floor = time.Hour, 15 * time.Minute
	tests := []struct {
		name     string
		duration time.Duration
		left     time.Duration // 0: the run has no expiry
		want     time.Duration
	}{
		{"no duration, no expiry: the upstream's default", 0, 0, fallback},
		{"duration, no expiry", 2 * time.Hour, 0, 2 * time.Hour},
		{"duration longer than the run has left", 2 * time.Hour, 30 * time.Minute, 30 * time.Minute},
		{"no duration, run shorter than the default", 0, 40 * time.Minute, 40 * time.Minute},
		{"run almost over: the floor", time.Hour, 30 * time.Second, floor},
		{"run already over: the floor", time.Hour, -time.Minute, floor},
		{"part of a second left is a whole one", 2 * time.Hour, 30*time.Minute + 400*time.Millisecond, 30*time.Minute + time.Second},
		{"duration shorter than the run has left", 20 * time.Minute, time.Hour, 20 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := Request{Integration: config.Integration{Duration: tt.duration}, Now: now}
			if tt.left != 0 {
				req.Run = runs.Run{ExpiresAt: now.Add(tt.left)}
			}
			if got := Lifetime(req, fallback, floor); got != tt.want {
				t.Errorf("Lifetime = %s, want %s", got, tt.want)
			}
		})
	}
}

// TestTimeout pins that an integration's own per-call timeout is used whatever its size, and the
// default only when it sets none.
// Guards against: a timeout under a second ignored (in.Timeout > time.Second) in
// exchange.go:Timeout
func TestTimeout(t *testing.T) {
	for _, tt := range []struct {
		set, want time.Duration
	}{
		{0, config.DefaultIntegrationTimeout},
		{500 * time.Millisecond, 500 * time.Millisecond},
		{time.Second, time.Second},
		{30 * time.Second, 30 * time.Second},
	} {
		if got := Timeout(config.Integration{Timeout: tt.set}); got != tt.want {
			t.Errorf("Timeout(%s) = %s, want %s", tt.set, got, tt.want)
		}
	}
}

// TestUsable pins which 2xx answers hold usable credentials: every required field set, an
// expiry at least MinValidity away, and, when a lifetime was asked for, an expiry no more than
// LifetimeSlack past it. A refusal is an upstream failure with status 200 (not a denial) that
// names the field but never its value.
// Guards against: empty-field check dropped in usable.go:Usable
// Guards against: MinValidity margin dropped (expiry only compared to now) in usable.go:Usable
// Guards against: LifetimeSlack widened in usable.go:Usable
func TestUsable(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	const asked = time.Hour
	fields := func(token string) []Field { return []Field{{Name: "accessToken", Value: token}} }
	tests := []struct {
		name    string
		fields  []Field
		expires time.Time
		ok      bool
	}{
		{"usable", fields("secret-token-value"), now.Add(asked), true},
		{"empty field", fields(""), now.Add(asked), false},
		{"no expiry", fields("secret-token-value"), time.Time{}, false},
		{"expires within MinValidity", fields("secret-token-value"), now.Add(MinValidity - time.Second), false},
		{"expires exactly MinValidity away", fields("secret-token-value"), now.Add(MinValidity), true},
		{"within the slack", fields("secret-token-value"), now.Add(asked + LifetimeSlack), true},
		{"past the slack", fields("secret-token-value"), now.Add(asked + LifetimeSlack + time.Second), false},
		{"far past the slack", fields("secret-token-value"), now.Add(asked + 3*LifetimeSlack), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Usable(Answer{Provider: GCP, From: "IAM Credentials", Fields: tt.fields,
				ExpiresAt: tt.expires, Now: now, Asked: asked})
			if tt.ok {
				if err != nil {
					t.Fatalf("Usable = %v, want nil", err)
				}
				return
			}
			var up *UpstreamError
			if !errors.As(err, &up) {
				t.Fatalf("Usable = %v (%T), want *UpstreamError", err, err)
			}
			if up.Status != http.StatusOK || up.Denied() || Classify(err) != Error {
				t.Errorf("refusal %+v: want status 200 counted as error, not denied", up)
			}
			if strings.Contains(err.Error(), "secret-token-value") {
				t.Errorf("refusal %q names the credential", err)
			}
		})
	}
}

// TestClientFollowsNoRedirect pins that the upstream client hands a redirect back as the
// answer and never re-sends the request (with its token) to the Location.
// Guards against: CheckRedirect dropped in httpclient.go:NewHTTPClient
func TestClientFollowsNoRedirect(t *testing.T) {
	var reached atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached.Add(1)
	}))
	defer target.Close()
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL+"/stolen", http.StatusTemporaryRedirect)
	}))
	defer origin.Close()
	client := NewHTTPClient(ClientOptions{Backoff: time.Millisecond})
	req, _ := http.NewRequest(http.MethodPost, origin.URL+"/v1/token", strings.NewReader("subject_token=eyJ"))
	req.Header.Set("Authorization", "Bearer broker-token")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTemporaryRedirect {
		t.Errorf("status %d, want the redirect itself (307)", resp.StatusCode)
	}
	if n := reached.Load(); n != 0 {
		t.Errorf("the redirect target received %d requests", n)
	}
}

// TestUpstreamScrubsCode pins that the upstream's error code is scrubbed like its message:
// a secret given, or a JWT, echoed in the code never reaches the caller.
// Guards against: Code passed on unscrubbed in errors.go:Upstream
func TestUpstreamScrubsCode(t *testing.T) {
	const secret = "run-secret-0123456789"
	const jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJydW4ifQ.c2lnbmF0dXJl"
	up := Upstream(AWS, UpstreamAnswer{Status: 400, Code: "Bad-" + secret + "-" + jwt, Message: "refused"}, secret)
	if strings.Contains(up.Code, secret) || strings.Contains(up.Code, jwt) || strings.Contains(up.Error(), secret) {
		t.Errorf("code %q (error %q) holds a secret", up.Code, up.Error())
	}
}

// TestUnreplayableBodyNotRetried pins that a throttled or failed call whose body cannot be sent
// again ends with an error after its one attempt instead of crashing or sending an empty body on
// the retry.
// Guards against: GetBody nil check dropped (nil function called on retry) in
// httpclient.go:RoundTrip
func TestUnreplayableBodyNotRetried(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	client := NewHTTPClient(ClientOptions{Backoff: time.Millisecond})
	// A body of a reader type net/http cannot rewind: the request has no GetBody.
	body := io.MultiReader(strings.NewReader("grant_type=token-exchange"))
	req, _ := http.NewRequest(http.MethodPost, srv.URL, body)
	if req.GetBody != nil {
		t.Fatal("test request unexpectedly replayable")
	}
	var err error
	func() {
		defer func() {
			if p := recover(); p != nil {
				t.Fatalf("retry panicked: %v", p)
			}
		}()
		var resp *http.Response
		resp, err = client.Do(req)
		if err == nil {
			resp.Body.Close()
		}
	}()
	if err == nil || !strings.Contains(err.Error(), "cannot be replayed") {
		t.Errorf("error = %v, want one saying the body cannot be replayed", err)
	}
	if n := hits.Load(); n != 1 {
		t.Errorf("%d attempts, want 1", n)
	}
}
