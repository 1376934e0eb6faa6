package gcpemu

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/brokerhq/broker/internal/testutil/oidctest"
)

// TestPoolNamedProviders checks that a federated identity of a pool whose id is
// "providers" (a valid pool id) is matched against bindings on that pool: the pool of a
// provider is its name up to the last "/providers/", as `broker trust gcp` prints it, so
// generateAccessToken grants the service account bound to the identity's principal set.
func TestPoolNamedProviders(t *testing.T) {
	const pool = "projects/123456789/locations/global/workloadIdentityPools/providers"
	const name = pool + "/providers/broker-oidc"
	iss := oidctest.Start(t)
	emu := New(Config{
		Providers: []Provider{{Name: name, Issuer: iss.URL}},
		ServiceAccounts: []ServiceAccount{{Email: readerSA,
			Members: []string{"principal://iam.googleapis.com/" + pool + "/subject/" + readSub}}},
	})
	f := &fixture{emu: emu, iss: iss, srv: newServer(t, emu)}
	form := url.Values{
		"grant_type":           {grantTokenExchange},
		"requested_token_type": {tokenTypeAccess},
		"subject_token_type":   {tokenTypeJWT},
		"subject_token": {iss.Sign(t, oidctest.Token{Claims: map[string]any{
			"sub": readSub, "aud": "//iam.googleapis.com/" + name}})},
		"audience": {"//iam.googleapis.com/" + name},
		"scope":    {cloudScope},
	}
	status, body := f.postSTS(t, form)
	if status != http.StatusOK {
		t.Fatalf("STS: %d %v", status, body)
	}
	bearer := body["access_token"].(string)
	status, body = f.postIAM(t, readerSA, bearer, map[string]any{"scope": []string{cloudScope}})
	if status != http.StatusOK {
		t.Fatalf("generateAccessToken for the bound principal of pool %q: %d %v", pool, status, body)
	}
}
