package gcpemu

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/brokerhq/broker/internal/testutil/oidctest"
)

// TestSTSRefusals: Google STS refuses a subject token whose exp is exactly 48 hours after
// its iat ("must be less than 48 hours"), one signed with an algorithm other than RS256 and
// ES256, and an audience under iam.googleapis.com that names no provider (invalid_request, as
// any audience that is not a provider's full resource name).
func TestSTSRefusals(t *testing.T) {
	f := newFixture(t)
	ri := startKidlessIssuer(t)
	kidded := New(Config{Providers: []Provider{{Name: testProvider, Issuer: ri.url}}})
	kf := &fixture{emu: kidded, srv: newServer(t, kidded)}
	now := time.Now().Unix()
	lived := func(seconds int64) string {
		c := claims("read")
		c["iat"], c["nbf"], c["exp"] = now, now, now+seconds
		return f.iss.Sign(t, oidctest.Token{Claims: c})
	}
	signedAs := func(alg jose.SignatureAlgorithm) string {
		c := claims("read")
		c["iss"], c["iat"], c["exp"] = ri.url, now, now+600
		return signWith(t, jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: ri.key, KeyID: "k1"}}, c)
	}
	for _, tc := range []struct {
		name    string
		fx      *fixture
		form    url.Values
		status  int
		code    string
		message string
	}{
		{"exp 48h less 1 s after iat", f, stsForm(lived(48*3600 - 1)), 200, "", ""},
		{"exp exactly 48h after iat", f, stsForm(lived(48 * 3600)), 400, "invalid_grant", "lifetime is too long"},
		{"RS256 with kid", kf, stsForm(signedAs(jose.RS256)), 200, "", ""},
		{"RS384", kf, stsForm(signedAs(jose.RS384)), 400, "invalid_grant", `algorithm "RS384"`},
		{"RS512", kf, stsForm(signedAs(jose.RS512)), 400, "invalid_grant", `algorithm "RS512"`},
		{"PS256", kf, stsForm(signedAs(jose.PS256)), 400, "invalid_grant", `algorithm "PS256"`},
		{"audience naming a pool, no provider", f, func() url.Values {
			v := stsForm(f.iss.Sign(t, oidctest.Token{Claims: claims("read")}))
			v.Set("audience", "//iam.googleapis.com/"+testPool)
			return v
		}(), 400, "invalid_request", `Invalid value for "audience"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := tc.fx.postSTS(t, tc.form)
			if status != tc.status {
				t.Fatalf("status %d, want %d: %v", status, tc.status, body)
			}
			if tc.code == "" {
				return
			}
			if desc, _ := body["error_description"].(string); body["error"] != tc.code || !strings.Contains(desc, tc.message) {
				t.Errorf("error %v %q, want %s containing %q", body["error"], desc, tc.code, tc.message)
			}
		})
	}
}

// TestScopeForIAMCredentials: a federated token whose scopes are neither cloud-platform
// nor iam may not call generateAccessToken (403 insufficient scopes).
func TestScopeForIAMCredentials(t *testing.T) {
	f := newFixture(t)
	form := stsForm(f.iss.Sign(t, oidctest.Token{Claims: claims("read")}))
	form.Set("scope", "https://www.googleapis.com/auth/devstorage.read_only")
	status, body := f.postSTS(t, form)
	if status != http.StatusOK {
		t.Fatalf("STS: %d %v", status, body)
	}
	status, out := f.postIAM(t, readerSA, body["access_token"].(string), map[string]any{"scope": []string{cloudScope}})
	if rs, msg := rpcErr(out); status != http.StatusForbidden || rs != "PERMISSION_DENIED" || msg != msgInsufficientScopes {
		t.Fatalf("generateAccessToken with a devstorage-scoped federated token: %d %v", status, out)
	}
}
