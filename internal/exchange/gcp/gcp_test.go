package gcp

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/config"
	gcpemu "github.com/brokerhq/broker/internal/emulator/gcp"
	"github.com/brokerhq/broker/internal/exchange"
	"github.com/brokerhq/broker/internal/provider"
)

func TestReadAndWriteUseTheirServiceAccounts(t *testing.T) {
	f := newFixture(t)
	for _, tt := range []struct {
		scope, sa string
	}{
		{"read", readerSA},
		{"write", writerSA},
	} {
		t.Run(tt.scope, func(t *testing.T) {
			before := len(f.emu.Calls())
			req, tokens := f.request(t, tt.scope, f.integration(tt.sa))
			creds, err := f.x.Exchange(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			calls := f.emu.Calls()[before:]
			if len(calls) != 2 || calls[0].Endpoint != gcpemu.EndpointSTS || calls[1].Endpoint != gcpemu.EndpointIAM {
				t.Fatalf("calls %+v", calls)
			}
			sts, iam := calls[0], calls[1]
			wantAudience := "//iam.googleapis.com/" + testProvider
			if sts.Outcome != gcpemu.OutcomeOK || sts.Audience != wantAudience || sts.Provider != testProvider {
				t.Errorf("STS call %+v", sts)
			}
			if audiences, _ := tokens.snapshot(); !slices.Equal(audiences, []string{wantAudience}) {
				t.Errorf("broker tokens minted for %v, want one for %s", audiences, wantAudience)
			}
			if iam.Outcome != gcpemu.OutcomeOK || iam.ServiceAccount != tt.sa ||
				!slices.Equal(iam.Scopes, []string{DefaultScope}) || iam.Lifetime != time.Hour {
				t.Errorf("IAM call %+v", iam)
			}
			token := creds.Env[EnvAccessToken]
			info, ok := f.emu.AccessTokenInfo(token)
			if !ok || info.ServiceAccount != tt.sa || !strings.HasPrefix(token, "ya29.") || len(creds.Env) != 1 {
				t.Fatalf("env %v is not an emulator token for %s (%+v)", creds.Env, tt.sa, info)
			}
			want := Detail{AccessToken: token, ExpiresAt: info.ExpiresAt, ServiceAccount: tt.sa, TokenType: "Bearer"}
			if d, ok := creds.Detail.(Detail); !ok || d != want || !creds.ExpiresAt.Equal(info.ExpiresAt) {
				t.Errorf("credentials %+v, want detail %+v", creds, want)
			}
		})
	}
}

func TestEndpointsAudienceScopesAndLifetime(t *testing.T) {
	const custom = "https://broker.example/gcp"
	f := newFixture(t, custom)
	// STS and IAM Credentials on two servers, each under a path prefix.
	sts := httptest.NewServer(http.StripPrefix("/sts", f.emu))
	iam := httptest.NewServer(http.StripPrefix("/iam", f.emu))
	t.Cleanup(sts.Close)
	t.Cleanup(iam.Close)
	in := f.integration(readerSA)
	in.GCP.WorkloadIdentityProvider = "//iam.googleapis.com/" + testProvider
	in.GCP.STSEndpoint, in.GCP.IAMCredentialsEndpoint = sts.URL+"/sts/", iam.URL+"/iam"
	in.GCP.Scopes = []string{"https://www.googleapis.com/auth/devstorage.read_only"}
	in.Audience = custom
	in.Duration = 15 * time.Minute
	req, tokens := f.request(t, "read", in)
	started := time.Now()
	creds, err := f.x.Exchange(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if audiences, _ := tokens.snapshot(); !slices.Equal(audiences, []string{custom}) {
		t.Errorf("token audiences %v", audiences)
	}
	calls := f.emu.Calls()
	if calls[0].Audience != "//iam.googleapis.com/"+testProvider {
		t.Errorf("STS audience parameter %q", calls[0].Audience)
	}
	if calls[1].Lifetime != 15*time.Minute || !slices.Equal(calls[1].Scopes, in.GCP.Scopes) {
		t.Errorf("IAM call %+v", calls[1])
	}
	if d := creds.ExpiresAt.Sub(started); d < 14*time.Minute || d > 16*time.Minute {
		t.Errorf("expires in %s", d)
	}
}

func TestUpstreamRefusals(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name     string
		scope    string
		edit     func(*config.Integration)
		endpoint string // where the refusal happened; asked exactly once
		status   int
		code     string
		message  string
	}{
		{name: "read run on the write account", scope: "read", edit: func(in *config.Integration) { in.GCP.ServiceAccount = writerSA },
			endpoint: gcpemu.EndpointIAM, status: 403, code: "PERMISSION_DENIED",
			message: "Permission 'iam.serviceAccounts.getAccessToken' denied on resource (or it may not exist)."},
		{name: "token audience the provider does not allow", scope: "read", edit: func(in *config.Integration) { in.Audience = "sts.amazonaws.com" },
			endpoint: gcpemu.EndpointSTS, status: 400, code: "invalid_grant",
			message: "The audience in ID Token [sts.amazonaws.com] does not match the expected audience."},
		{name: "unknown provider", scope: "read", edit: func(in *config.Integration) { in.GCP.WorkloadIdentityProvider = testPool + "/providers/gone" },
			endpoint: gcpemu.EndpointSTS, status: 400, code: "invalid_target", message: `The target service indicated by the "audience" parameters is invalid`},
		{name: "unknown service account", scope: "read", edit: func(in *config.Integration) { in.GCP.ServiceAccount = "ghost@demo.iam.gserviceaccount.com" },
			endpoint: gcpemu.EndpointIAM, status: 404, code: "NOT_FOUND", message: "Gaia id not found"},
		{name: "lifetime over an hour", scope: "read", edit: func(in *config.Integration) { in.Duration = 2 * time.Hour },
			endpoint: gcpemu.EndpointIAM, status: 400, code: "INVALID_ARGUMENT", message: "Request contains an invalid argument."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(f.emu.Calls())
			in := f.integration(readerSA)
			tt.edit(&in)
			req, tokens := f.request(t, tt.scope, in)
			_, err := f.x.Exchange(context.Background(), req)
			var up *exchange.UpstreamError
			if !errors.As(err, &up) {
				t.Fatalf("error %v (%T), want *exchange.UpstreamError", err, err)
			}
			if up.Provider != exchange.GCP || up.Status != tt.status || up.Code != tt.code || !strings.Contains(up.Message, tt.message) {
				t.Errorf("got %+v, want %d %s %q", up, tt.status, tt.code, tt.message)
			}
			_, minted := tokens.snapshot()
			for _, tok := range minted {
				if strings.Contains(err.Error(), tok) {
					t.Error("error holds the broker token")
				}
			}
			if strings.Contains(err.Error(), "eyJ") || strings.Contains(err.Error(), "gcpemu.sts.") {
				t.Errorf("error holds a token: %s", err)
			}
			var at []gcpemu.Call
			for _, c := range f.emu.Calls()[before:] {
				if c.Endpoint == tt.endpoint {
					at = append(at, c)
				}
			}
			if len(at) != 1 || at[0].Status != tt.status {
				t.Errorf("calls at %s: %+v, want exactly one (4xx is never retried)", tt.endpoint, at)
			}
		})
	}
}

func TestRetriesThrottlingAndUnavailability(t *testing.T) {
	f := newFixture(t)
	t.Run("two 503 then success", func(t *testing.T) {
		f.emu.FailNext(2, http.StatusServiceUnavailable)
		req, _ := f.request(t, "read", f.integration(readerSA))
		if _, err := f.x.Exchange(context.Background(), req); err != nil {
			t.Fatal(err)
		}
		var outcomes []string
		for _, c := range f.emu.Calls() {
			outcomes = append(outcomes, c.Endpoint+" "+c.Outcome)
		}
		want := []string{"sts.token UNAVAILABLE", "sts.token UNAVAILABLE", "sts.token ok", "iamcredentials.generateAccessToken ok"}
		if !slices.Equal(outcomes, want) {
			t.Errorf("calls %v, want %v", outcomes, want)
		}
	})
	t.Run("429 until attempts run out", func(t *testing.T) {
		f.emu.FailNext(3, http.StatusTooManyRequests)
		req, _ := f.request(t, "read", f.integration(readerSA))
		_, err := f.x.Exchange(context.Background(), req)
		var up *exchange.UpstreamError
		if !errors.As(err, &up) || up.Status != 429 || up.Code != "RESOURCE_EXHAUSTED" || !strings.HasPrefix(up.Message, "STS token exchange: ") {
			t.Fatalf("error %v", err)
		}
		f.emu.FailNext(0, 0)
	})
}

func TestHangingUpstreamIsBounded(t *testing.T) {
	f := newFixture(t)
	release := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(hang.Close)
	t.Cleanup(func() { close(release) }) // runs before hang.Close
	const timeout = 300 * time.Millisecond
	for _, tt := range []struct {
		name     string
		sts, iam string
		step     string
	}{
		{"STS hangs", hang.URL, f.srv.URL, "STS token exchange"},
		{"IAM Credentials hangs", f.srv.URL, hang.URL, "generateAccessToken"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			in := f.integration(readerSA)
			in.GCP.STSEndpoint, in.GCP.IAMCredentialsEndpoint = tt.sts, tt.iam
			in.Timeout = timeout
			req, _ := f.request(t, "read", in)
			started := time.Now()
			_, err := f.x.Exchange(context.Background(), req)
			took := time.Since(started)
			var up *exchange.UpstreamError
			if !errors.As(err, &up) || up.Status != 0 || !strings.Contains(up.Message, tt.step) ||
				!strings.Contains(up.Message, "no answer within 300ms") {
				t.Fatalf("error %v", err)
			}
			if took > timeout+time.Second {
				t.Errorf("took %s with a %s timeout", took, timeout)
			}
		})
	}
}

func TestTokenSourceFailureIsNotUpstream(t *testing.T) {
	f := newFixture(t)
	boom := errors.New("signing key unavailable")
	req, tokens := f.request(t, "read", f.integration(readerSA))
	tokens.err = boom
	_, err := f.x.Exchange(context.Background(), req)
	var up *exchange.UpstreamError
	if !errors.Is(err, boom) || errors.As(err, &up) {
		t.Fatalf("error %v", err)
	}
	if n := len(f.emu.Calls()); n != 0 {
		t.Errorf("%d upstream calls without a subject token", n)
	}
}

func TestCallerCancellation(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req, _ := f.request(t, "read", f.integration(readerSA))
	if _, err := f.x.Exchange(ctx, req); !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v", err)
	}
}

func TestConfigErrors(t *testing.T) {
	f := newFixture(t)
	for _, tt := range []struct {
		name string
		edit func(*exchange.Request)
		want string
	}{
		{"no gcp block", func(r *exchange.Request) { r.Integration.GCP = nil }, "no gcp configuration"},
		{"no provider", func(r *exchange.Request) { r.Integration.GCP.WorkloadIdentityProvider = "" }, "workload_identity_provider"},
		{"no service account", func(r *exchange.Request) { r.Integration.GCP.ServiceAccount = "" }, "service_account"},
		{"no token source", func(r *exchange.Request) { r.Tokens = nil }, "token source"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := f.request(t, "read", f.integration(readerSA))
			tt.edit(&req)
			if _, err := f.x.Exchange(context.Background(), req); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
		})
	}
}

func TestProviderAudience(t *testing.T) {
	want := "//iam.googleapis.com/" + testProvider
	for _, in := range []string{testProvider, "/" + testProvider, want, "https://iam.googleapis.com/" + testProvider} {
		if got := ProviderAudience(in); got != want {
			t.Errorf("ProviderAudience(%q) = %q", in, got)
		}
	}
}

func TestGoogleError(t *testing.T) {
	for _, tt := range []struct {
		body          string
		code, message string
	}{
		{`{"error":"invalid_grant","error_description":"Invalid JWT signature."}`, "invalid_grant", "Invalid JWT signature."},
		{`{"error":{"code":403,"message":"denied","status":"PERMISSION_DENIED"}}`, "PERMISSION_DENIED", "denied"},
		{`<html>Bad Gateway</html>`, "", "<html>Bad Gateway</html>"},
		{``, "", "Bad Gateway"},
	} {
		code, message := googleError(http.StatusBadGateway, []byte(tt.body))
		if code != tt.code || message != tt.message {
			t.Errorf("googleError(%s) = %q, %q", tt.body, code, message)
		}
	}
}

func TestExplainScrubsEchoedTokens(t *testing.T) {
	const federated = "opaque-federated-secret-123"
	const jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
	rec := &recorder{serviceAccount: readerSA}
	rec.addSecret(federated)
	rec.answered(answer{step: "STS token exchange", status: 400,
		body: []byte(`{"error":"invalid_grant","error_description":"bad token ` + jwt + ` after ` + federated + `"}`)})
	err := rec.explain(context.Background(), errors.New("oauth2/google: status code 400"))
	var up *exchange.UpstreamError
	if !errors.As(err, &up) || up.Code != "invalid_grant" {
		t.Fatalf("error %v", err)
	}
	if strings.Contains(err.Error(), federated) || strings.Contains(err.Error(), jwt) || !strings.Contains(err.Error(), "[redacted]") {
		t.Errorf("not scrubbed: %s", err)
	}
}

// TestLifetimeEndsWithItsRun: the access token asked of generateAccessToken lasts no longer
// than the run has left (whole seconds, rounded up), and never under MinLifetime; without a
// run end it lasts the integration's duration, or Google's hour. On the old code a run 10
// minutes from its end got an hour.
func TestLifetimeEndsWithItsRun(t *testing.T) {
	f := newFixture(t)
	now := time.Now()
	for _, tc := range []struct {
		name     string
		duration time.Duration
		left     time.Duration
		want     time.Duration
	}{
		{"the run ends first", 0, 10*time.Minute + 1, 601 * time.Second},
		{"the run all but ended", 0, 10 * time.Second, provider.MinLifetime},
		{"the integration's duration ends first", 15 * time.Minute, time.Hour, 15 * time.Minute},
		{"no run end: Google's hour", 0, 0, time.Hour},
		{"Google's hour ends first", 0, 2 * time.Hour, time.Hour},
		{"a duration at the floor stays", provider.MinLifetime, 2 * time.Hour, provider.MinLifetime},
		{"the run ending first, the floor", 90 * time.Second, 10 * time.Second, provider.MinLifetime},
	} {
		in := f.integration(readerSA)
		in.Duration = tc.duration
		req, _ := f.request(t, "read", in)
		req.Now = now
		if tc.left > 0 {
			req.Run.ExpiresAt = now.Add(tc.left)
		}
		calls := len(f.emu.Calls())
		if _, err := f.x.Exchange(context.Background(), req); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := f.emu.Calls()[calls+1].Lifetime; got != tc.want {
			t.Errorf("%s: lifetime %s, want %s", tc.name, got, tc.want)
		}
	}
}
