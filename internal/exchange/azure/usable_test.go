package azure

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/exchange"
	"github.com/brokerhq/broker/internal/testutil/oidctest"
)

// editTokenAnswer rewrites the JSON of a successful token-endpoint answer with edit.
func editTokenAnswer(edit func(map[string]any)) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !strings.HasSuffix(r.URL.Path, "/oauth2/v2.0/token") {
				next.ServeHTTP(w, r)
				return
			}
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, r)
			var body map[string]any
			if rec.Code == http.StatusOK && json.Unmarshal(rec.Body.Bytes(), &body) == nil {
				edit(body)
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(rec.Code)
			_ = json.NewEncoder(w).Encode(body)
		})
	}
}

// An Entra answer whose token has already expired fails the exchange.
func TestRefusesExpiredEntraToken(t *testing.T) {
	f := newFixture(t, editTokenAnswer(func(b map[string]any) { b["expires_in"] = -3600; b["ext_expires_in"] = -3600 }))
	req, _ := f.request(t, f.integration("az-read", readClient), readSubject)
	creds, err := f.x.Exchange(context.Background(), req)
	if err == nil {
		t.Fatalf("exchange handed back an Entra access token that had already expired: expiresAt=%s", creds.ExpiresAt.Format(time.RFC3339))
	}
	var ue *exchange.UpstreamError
	if !errors.As(err, &ue) || ue.Status != 200 || !strings.Contains(err.Error(), "expire") {
		t.Errorf("error %v, want an upstream error (status 200) about the expiry", err)
	}
}

// Entra ID sets a token's lifetime (its token lifetime policy); with the integration's
// duration set, a token living more than exchange.LifetimeSlack past it is refused, as AWS's,
// Google's and Vault's are, and one within it handed out.
func TestEntraTokenOutlivingTheDurationIsRefused(t *testing.T) {
	cases := []struct {
		name      string
		duration  time.Duration
		expiresIn int
		ok        bool
	}{
		{"no duration, an hour", 0, 3600, true},
		{"5m asked, an hour", 5 * time.Minute, 3600, false},
		{"1h asked, 90 minutes", time.Hour, 5400, false},
		{"1h asked, an hour", time.Hour, 3600, true},
		{"15m asked, 10 minutes", 15 * time.Minute, 600, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, editTokenAnswer(func(b map[string]any) { b["expires_in"] = tc.expiresIn; b["ext_expires_in"] = tc.expiresIn }))
			in := f.integration("az-read", readClient)
			in.Duration = tc.duration
			req, _ := f.request(t, in, readSubject)
			creds, err := f.x.Exchange(context.Background(), req)
			if tc.ok {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				detail, _ := creds.Detail.(Detail)
				if d := time.Until(detail.ExpiresAt); d < time.Duration(tc.expiresIn-60)*time.Second || d > time.Duration(tc.expiresIn)*time.Second {
					t.Errorf("the access token expires in %v, want about %ds", d, tc.expiresIn)
				}
				return
			}
			var ue *exchange.UpstreamError
			if !errors.As(err, &ue) || ue.Status != 200 || !strings.Contains(err.Error(), "later than the "+tc.duration.String()+" asked for") {
				t.Errorf("exchange: %v (credentials until %v), want an upstream error (status 200) naming the %v asked for", err, creds.ExpiresAt, tc.duration)
			}
		})
	}
}

// shortTokens mints assertions that expire after life, as broker's issuer does for a run that
// ends that soon (a token's exp is capped at its run's expiry).
type shortTokens struct {
	src  *tokenSource
	life time.Duration
}

func (s shortTokens) Token(_ context.Context, req exchange.TokenRequest) (string, error) {
	return s.src.iss.Sign(s.src.t, oidctest.Token{ExpiresIn: s.life,
		Claims: map[string]any{"sub": s.src.subject, "aud": req.Audience}}), nil
}

// TestRunEndingSoonGetsNoCredentials pins that Azure credentials are never handed over with
// less than exchange.MinValidity left: they are only as good as ARM_OIDC_TOKEN, which lives no
// longer than its run nor tokens.ttl, so a run that ends sooner gets a failed exchange naming
// that expiry (and no token), while one with a little more left gets credentials that expire
// with it.
func TestRunEndingSoonGetsNoCredentials(t *testing.T) {
	f := newFixture(t, nil)
	req, src := f.request(t, f.integration("az-read", readClient), readSubject)
	req.Tokens = shortTokens{src: src, life: 10 * time.Second}
	creds, err := f.x.Exchange(context.Background(), req)
	var up *exchange.UpstreamError
	if !errors.As(err, &up) {
		t.Fatalf("Exchange = %v expiring at %s, %v; want an upstream error", creds.Env != nil, creds.ExpiresAt, err)
	}
	if !strings.Contains(up.Detail(), EnvOIDCToken+" (which lives no longer than its run nor tokens.ttl) expires at") || strings.Contains(up.Detail(), "eyJ") || up.Denied() {
		t.Errorf("error %q (denied %v), want one naming %s's expiry, no token, not a refusal", up.Detail(), up.Denied(), EnvOIDCToken)
	}
	req.Tokens = shortTokens{src: src, life: 2 * time.Minute}
	creds, err = f.x.Exchange(context.Background(), req)
	if err != nil {
		t.Fatalf("a run with two minutes left: %v", err)
	}
	if left := time.Until(creds.ExpiresAt); left > 2*time.Minute+5*time.Second || left < exchange.MinValidity {
		t.Errorf("credentials expire in %s, want with the run in about 2m", left)
	}
}
