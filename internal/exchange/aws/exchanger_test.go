package aws

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/exchange"
	"github.com/brokerhq/broker/internal/runs"
)

func TestWebIdentityReadAndWrite(t *testing.T) {
	e := newEnv(t)
	var logs logBuffer
	x := New(Options{HTTPClient: fastClient(), Logger: logs.logger()})
	tests := []struct {
		scope runs.Scope
		in    config.Integration
	}{
		{runs.Read, e.integration("aws-vpc-read", readARN)},
		{runs.Write, e.integration("aws-vpc-write", writeARN)},
	}
	for i, tc := range tests {
		t.Run(string(tc.scope), func(t *testing.T) {
			tokens := e.tokens(t, tc.scope)
			before := time.Now()
			creds, err := x.Exchange(context.Background(), exchange.Request{Run: run(tc.scope), Integration: tc.in, Tokens: tokens})
			if err != nil {
				t.Fatal(err)
			}
			calls := e.emu.Calls()
			if len(calls) != i+1 {
				t.Fatalf("emulator saw %d calls", len(calls))
			}
			c := calls[i]
			if c.Action != "AssumeRoleWithWebIdentity" || c.RoleARN != tc.in.AWS.RoleARN || c.Outcome != "ok" ||
				c.SessionName != "broker-"+runID || !strings.Contains(c.SessionName, runID) || c.Subject != subject(tc.scope) {
				t.Errorf("call = %+v", c)
			}
			if reqs := tokens.requests(); len(reqs) != 1 || reqs[0] != (exchange.TokenRequest{Audience: "sts.amazonaws.com"}) {
				t.Errorf("token requests = %+v", reqs)
			}
			wantKeys := []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"}
			if keys := slices.Sorted(maps.Keys(creds.Env)); !slices.Equal(keys, wantKeys) {
				t.Errorf("env names = %v, want %v (no region when unset)", keys, wantKeys)
			}
			d, ok := creds.Detail.(Detail)
			if !ok {
				t.Fatalf("detail is %T", creds.Detail)
			}
			if d.AccessKeyID != creds.Env["AWS_ACCESS_KEY_ID"] || d.SecretAccessKey != creds.Env["AWS_SECRET_ACCESS_KEY"] ||
				d.SessionToken != creds.Env["AWS_SESSION_TOKEN"] || !strings.HasPrefix(d.AccessKeyID, "ASIA") ||
				d.RoleARN != tc.in.AWS.RoleARN || d.Region != "" || !d.Expiration.Equal(creds.ExpiresAt) ||
				d.AssumedRoleARN != "arn:aws:sts::"+account+":assumed-role/"+tc.in.AWS.RoleARN[strings.LastIndex(tc.in.AWS.RoleARN, "/")+1:]+"/broker-"+runID {
				t.Errorf("detail = %+v", d)
			}
			if want := before.Add(time.Hour); creds.ExpiresAt.Sub(want).Abs() > 5*time.Second {
				t.Errorf("expiresAt = %s, want about %s", creds.ExpiresAt, want)
			}
			raw, _ := json.Marshal(creds.Detail)
			var fields map[string]any
			_ = json.Unmarshal(raw, &fields)
			if got := slices.Sorted(maps.Keys(fields)); !slices.Equal(got, []string{"accessKeyId", "assumedRoleArn", "expiration", "roleArn", "secretAccessKey", "sessionToken"}) {
				t.Errorf("detail JSON fields = %v", got)
			}
			for _, secret := range []string{tokens.lastToken(), d.SecretAccessKey, d.SessionToken} {
				if strings.Contains(logs.String(), secret) {
					t.Errorf("a secret reached the log")
				}
			}
		})
	}
	if !strings.Contains(logs.String(), "aws sts call") {
		t.Errorf("no debug line logged:\n%s", logs.String())
	}
}

func TestWebIdentityOptions(t *testing.T) {
	e := newEnv(t)
	x := New(Options{HTTPClient: fastClient()})
	in := e.integration("aws-long", longARN)
	in.AWS.Region = "eu-west-1"
	in.AWS.SessionTags = true
	in.Audience = "custom-aud"
	in.Duration = 2 * time.Hour
	tokens := e.tokens(t, runs.Read)

	long := run(runs.Read)
	long.ExpiresAt = long.CreatedAt.Add(3 * time.Hour)
	creds, err := x.Exchange(context.Background(), exchange.Request{Run: long, Integration: in, Tokens: tokens})
	if err != nil {
		t.Fatal(err)
	}
	if creds.Env["AWS_REGION"] != "eu-west-1" || creds.Env["AWS_DEFAULT_REGION"] != "eu-west-1" || len(creds.Env) != 5 {
		t.Errorf("env = %v", slices.Sorted(maps.Keys(creds.Env)))
	}
	if d := creds.Detail.(Detail); d.Region != "eu-west-1" {
		t.Errorf("detail region = %q", d.Region)
	}
	if reqs := tokens.requests(); len(reqs) != 1 || reqs[0] != (exchange.TokenRequest{Audience: "custom-aud", AWSSessionTags: true}) {
		t.Errorf("token requests = %+v", reqs)
	}
	c := e.emu.Calls()[0]
	if c.DurationSeconds != 7200 || c.Audience != "custom-aud" || c.SessionTags["stack"] != stack {
		t.Errorf("call = %+v", c)
	}
	if time.Until(creds.ExpiresAt) < 119*time.Minute {
		t.Errorf("expiresAt = %s, want 2h ahead", creds.ExpiresAt)
	}
}

func TestUpstreamRefusal(t *testing.T) {
	e := newEnv(t)
	var logs logBuffer
	x := New(Options{HTTPClient: fastClient(), Logger: logs.logger()})
	tokens := e.tokens(t, runs.Read)
	// A read run presenting its token to the write role: the trust condition on sub refuses.
	_, err := x.Exchange(context.Background(), exchange.Request{Run: run(runs.Read), Integration: e.integration("aws-vpc-write", writeARN), Tokens: tokens})
	up := upstream(t, err)
	if up.Provider != "aws" || up.Status != http.StatusForbidden || up.Code != "AccessDenied" ||
		up.Message != "Not authorized to perform sts:AssumeRoleWithWebIdentity" {
		t.Errorf("error = %+v", up)
	}
	token := tokens.lastToken()
	if strings.Contains(err.Error(), token) || strings.Contains(logs.String(), token) {
		t.Errorf("the token leaked into the error or the log")
	}
	if got := outcomes(e.emu); !slices.Equal(got, []string{"AccessDenied"}) {
		t.Errorf("emulator calls = %v, want one: a 403 is never retried", got)
	}
}

func TestRetries(t *testing.T) {
	tests := []struct {
		name    string
		client  *http.Client // nil: the default client
		n       int
		status  int
		code    string
		wantErr bool
		calls   []string
	}{
		{name: "two 503 then success (default client)", n: 2, status: 503, code: "ServiceUnavailable",
			calls: []string{"ServiceUnavailable", "ServiceUnavailable", "ok"}},
		{name: "503 until attempts run out", client: fastClient(), n: 5, status: 503, code: "ServiceUnavailable", wantErr: true,
			calls: []string{"ServiceUnavailable", "ServiceUnavailable", "ServiceUnavailable"}},
		{name: "400 Throttling retried", client: fastClient(), n: 1, status: 400, code: "Throttling",
			calls: []string{"Throttling", "ok"}},
		{name: "429 retried", client: fastClient(), n: 1, status: 429, code: "TooManyRequestsException",
			calls: []string{"TooManyRequestsException", "ok"}},
		{name: "400 IDPCommunicationError retried", client: fastClient(), n: 1, status: 400, code: "IDPCommunicationError",
			calls: []string{"IDPCommunicationError", "ok"}},
		{name: "400 IDPCommunicationError until attempts run out", client: fastClient(), n: 5, status: 400, code: "IDPCommunicationError", wantErr: true,
			calls: []string{"IDPCommunicationError", "IDPCommunicationError", "IDPCommunicationError"}},
		{name: "400 ValidationError not retried", client: fastClient(), n: 1, status: 400, code: "ValidationError", wantErr: true,
			calls: []string{"ValidationError"}},
		{name: "403 not retried", client: fastClient(), n: 1, status: 403, code: "AccessDenied", wantErr: true,
			calls: []string{"AccessDenied"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			x := New(Options{HTTPClient: tc.client})
			e.emu.FailNext(tc.n, tc.status, tc.code)
			_, err := x.Exchange(context.Background(), exchange.Request{Run: run(runs.Read), Integration: e.integration("aws-vpc-read", readARN), Tokens: e.tokens(t, runs.Read)})
			if got := outcomes(e.emu); !slices.Equal(got, tc.calls) {
				t.Errorf("emulator calls = %v, want %v", got, tc.calls)
			}
			if !tc.wantErr {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			up := upstream(t, err)
			if up.Status != tc.status || up.Code != tc.code {
				t.Errorf("error = %+v", up)
			}
			// STS could not reach broker's discovery or JWKS: a failure to count as error, not a refusal.
			if wantDenied := tc.status == 403 || tc.code == "ValidationError"; up.Denied() != wantDenied {
				t.Errorf("%s: Denied() = %v, want %v", tc.code, up.Denied(), wantDenied)
			}
		})
	}
}

func TestUnreachable(t *testing.T) {
	hang := make(chan struct{})
	hanging := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-hang:
		}
	}))
	t.Cleanup(hanging.Close)
	t.Cleanup(func() { close(hang) })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()

	e := newEnv(t)
	tests := []struct {
		name     string
		endpoint string
		reason   string
	}{
		{"hanging endpoint", hanging.URL, "timeout"},
		{"nothing listening", closed, "connection refused"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			x := New(Options{HTTPClient: fastClient()})
			in := e.integration("aws-vpc-read", readARN)
			in.AWS.STSEndpoint = tc.endpoint
			in.Timeout = 300 * time.Millisecond
			tokens := e.tokens(t, runs.Read)
			start := time.Now()
			_, err := x.Exchange(context.Background(), exchange.Request{Run: run(runs.Read), Integration: in, Tokens: tokens})
			if elapsed := time.Since(start); elapsed > 2*time.Second {
				t.Errorf("took %s with a 300ms timeout", elapsed)
			}
			up := upstream(t, err)
			host := strings.TrimPrefix(tc.endpoint, "http://")
			if up.Status != 0 || up.Message != "STS at "+host+" could not be reached: "+tc.reason {
				t.Errorf("error = %+v", up)
			}
			if strings.Contains(err.Error(), tokens.lastToken()) {
				t.Error("the token leaked into the error")
			}
		})
	}
}

func TestCallerCancels(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := New(Options{HTTPClient: fastClient()}).Exchange(ctx, exchange.Request{Run: run(runs.Read), Integration: e.integration("aws-vpc-read", readARN), Tokens: e.tokens(t, runs.Read)})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error = %v, want context.Canceled", err)
	}
}

func TestLocalErrors(t *testing.T) {
	e := newEnv(t)
	mintErr := errors.New("signing key unavailable")
	noAWS := config.Integration{ID: "gcp-thing"}
	badMode := e.integration("aws-odd", readARN)
	badMode.AWS.Mode = "instance-profile"
	tests := []struct {
		name   string
		in     config.Integration
		tokens exchange.TokenSource
		is     error
	}{
		{"no aws block", noAWS, e.tokens(t, runs.Read), nil},
		{"unknown mode", badMode, e.tokens(t, runs.Read), nil},
		{"token minting fails", e.integration("aws-vpc-read", readARN), &tokenSource{err: mintErr}, mintErr},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(Options{HTTPClient: fastClient()}).Exchange(context.Background(), exchange.Request{Run: run(runs.Read), Integration: tc.in, Tokens: tc.tokens})
			var up *exchange.UpstreamError
			if err == nil || errors.As(err, &up) || (tc.is != nil && !errors.Is(err, tc.is)) {
				t.Errorf("error = %v", err)
			}
		})
	}
	if n := len(e.emu.Calls()); n != 0 {
		t.Errorf("emulator saw %d calls", n)
	}
}

func TestRetryable(t *testing.T) {
	errMessage := func(code, message string) []byte {
		return []byte(`<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>` +
			code + `</Code><Message>` + message + `</Message></Error><RequestId>r</RequestId></ErrorResponse>`)
	}
	errBody := func(code string) []byte { return errMessage(code, "m") }
	tests := []struct {
		status int
		body   []byte
		want   bool
	}{
		{500, nil, true},
		{503, errBody("ServiceUnavailable"), true},
		{429, nil, true},
		{400, errBody("Throttling"), true},
		{400, errBody("ThrottlingException"), true},
		{400, errBody("RequestLimitExceeded"), true},
		{400, errBody("IDPCommunicationError"), true},
		// STS could not fetch broker's keys: passing, as AWS's web identity provider treats it.
		{400, errMessage("InvalidIdentityToken", "Couldn't retrieve verification key from your identity provider,  please reference AssumeRoleWithWebIdentity documentation for requirements"), true},
		{400, errMessage("InvalidIdentityToken", "No OpenIDConnect provider found in your account for https://broker.example.com"), false},
		{400, errMessage("InvalidIdentityToken", "Incorrect token audience"), false},
		{400, errBody("ValidationError"), false},
		{400, []byte("not xml"), false},
		{403, errBody("Throttling"), false},
		{403, errBody("AccessDenied"), false},
		{200, nil, false},
	}
	for _, tc := range tests {
		if got := Retryable(tc.status, tc.body); got != tc.want {
			t.Errorf("Retryable(%d, %s) = %v, want %v", tc.status, tc.body, got, tc.want)
		}
	}
}

func TestSessionName(t *testing.T) {
	tests := []struct{ runID, want string }{
		{runID, "broker-" + runID},
		{"run/with spaces", "broker-run-with-spaces"},
		{strings.Repeat("a", 80), "broker-" + strings.Repeat("a", 57)},
	}
	for _, tc := range tests {
		if got := SessionName(tc.runID); got != tc.want || len(got) > 64 {
			t.Errorf("SessionName(%q) = %q, want %q", tc.runID, got, tc.want)
		}
	}
}

// TestEndpointPostedAsGiven mounts the emulator under a path prefix: the endpoint is used as is.
func TestEndpointPostedAsGiven(t *testing.T) {
	e := newEnv(t)
	mux := http.NewServeMux()
	mux.Handle("/sts/", http.StripPrefix("/sts", e.emu))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	in := e.integration("aws-vpc-read", readARN)
	in.AWS.STSEndpoint = srv.URL + "/sts/"
	if _, err := New(Options{HTTPClient: fastClient()}).Exchange(context.Background(),
		exchange.Request{Run: run(runs.Read), Integration: in, Tokens: e.tokens(t, runs.Read)}); err != nil {
		t.Fatal(err)
	}
	if u, _ := url.Parse(in.AWS.STSEndpoint); len(e.emu.Calls()) != 1 || u.Path != "/sts/" {
		t.Errorf("calls = %+v", e.emu.Calls())
	}
}

// TestSessionEndsWithItsRun: the session asked of STS lasts no longer than the run has left
// (whole seconds, rounded up), and never under STS's 15 minutes; without a run end it lasts the
// integration's duration, or STS's hour. On the old code a run 20 minutes from its end got 2h of
// write credentials, which kept its access after it ended.
func TestSessionEndsWithItsRun(t *testing.T) {
	e := newEnv(t)
	x := New(Options{HTTPClient: fastClient()})
	now := time.Now()
	for _, tc := range []struct {
		name     string
		duration time.Duration
		left     time.Duration
		want     int
	}{
		{"the run ends first", 2 * time.Hour, 20*time.Minute + 500*time.Millisecond, 1201},
		{"the run ends within STS's least", 2 * time.Hour, 5 * time.Minute, 900},
		{"the integration's duration ends first", 30 * time.Minute, 2 * time.Hour, 1800},
		{"STS's hour ends first", 0, 2 * time.Hour, 3600},
		{"the run ends before STS's hour", 0, 40 * time.Minute, 2400},
	} {
		in := e.integration("aws-w", writeARN)
		in.Duration = tc.duration
		r := run(runs.Write)
		r.ExpiresAt = now.Add(tc.left)
		calls := len(e.emu.Calls())
		if _, err := x.Exchange(context.Background(), exchange.Request{Run: r, Integration: in, Tokens: e.tokens(t, runs.Write), Now: now}); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := e.emu.Calls()[calls].DurationSeconds; got != tc.want {
			t.Errorf("%s: DurationSeconds %d, want %d", tc.name, got, tc.want)
		}
	}
}
