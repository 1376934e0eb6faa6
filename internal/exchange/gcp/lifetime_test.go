package gcp

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/exchange"
	"github.com/brokerhq/broker/internal/runs"
	"github.com/brokerhq/broker/internal/testutil/oidctest"
)

// TestRefusesTokenOutlivingLifetime: an access token expiring later than the lifetime
// broker asked generateAccessToken for (the integration's duration, else an hour), by more than
// exchange.LifetimeSlack, is not handed on.
func TestRefusesTokenOutlivingLifetime(t *testing.T) {
	iss := oidctest.Start(t)
	for _, tc := range []struct {
		name     string
		duration time.Duration
		expires  time.Duration
		refused  bool
	}{
		{"default hour, an hour", 0, time.Hour, false},
		{"default hour, twelve hours", 0, 12 * time.Hour, true},
		{"10m asked, 10m", 10 * time.Minute, 10 * time.Minute, false},
		{"10m asked, an hour", 10 * time.Minute, time.Hour, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := fakeGoogle(t, map[string]any{"accessToken": "ya29.good-looking-token",
				"expireTime": time.Now().Add(tc.expires).UTC().Format(time.RFC3339)})
			x := New(Options{HTTPClient: fastRetries()})
			in := config.Integration{ID: "gcp-read", Timeout: 5 * time.Second, Duration: tc.duration, GCP: &config.GCP{
				WorkloadIdentityProvider: testProvider, ServiceAccount: readerSA, STSEndpoint: base, IAMCredentialsEndpoint: base}}
			creds, err := x.Exchange(context.Background(), exchange.Request{
				Run:         runs.Run{ID: "01JRUN", Space: "root", Stack: "vpc", Scope: runs.Read},
				Integration: in, Tokens: &fakeTokens{t: t, iss: iss, scope: "read"}})
			var ue *exchange.UpstreamError
			switch {
			case !tc.refused && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.refused && err == nil:
				t.Fatalf("handed on a token expiring at %s", creds.ExpiresAt.Format(time.RFC3339))
			case tc.refused && (!errors.As(err, &ue) || ue.Status != 200 || !strings.Contains(err.Error(), "asked for")):
				t.Errorf("error %v, want an upstream error with status 200 naming the lifetime asked for", err)
			}
		})
	}
}
