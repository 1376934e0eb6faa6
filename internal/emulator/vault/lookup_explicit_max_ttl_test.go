package vaultemu

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/testutil/oidctest"
	"github.com/brokerhq/broker/internal/testutil/vaulttest"
)

// TestLookupSelfExplicitMaxTTLMatchesVault checks that lookup-self tells a token's
// explicit_max_ttl as a real Vault does for the role broker trust vault prints (whose
// token_explicit_max_ttl is its token_ttl): a token of that role never looks uncapped.
func TestLookupSelfExplicitMaxTTLMatchesVault(t *testing.T) {
	real := vaulttest.Start(t)
	iss := oidctest.Start(t)
	real.EnableJWT(t, vaulttest.JWTConfig{Mount: "jwt", DiscoveryURL: iss.URL, BoundIssuer: iss.URL})
	real.WriteRole(t, "jwt", "demo", map[string]any{
		"bound_audiences": []string{"vault"}, "user_claim": "sub", "token_policies": []string{"demo"},
		"token_ttl": "30m", "token_max_ttl": "30m", "token_explicit_max_ttl": "30m", "token_period": "0s",
		"bound_claims": map[string]any{"callerId": []string{"demo-stack"}},
	})
	emu := httptest.NewServer(New(Config{Mounts: []Mount{{Path: "jwt", BoundIssuer: iss.URL,
		Roles: []Role{{Name: "demo", BoundAudiences: []string{"vault"}, UserClaim: "sub",
			Policies: []string{"demo"}, TTL: 30 * time.Minute,
			BoundClaims: map[string][]string{"callerId": {"demo-stack"}}}}}}}))
	defer emu.Close()

	good := `{"role":"demo","jwt":"` + iss.Sign(t, oidctest.Token{Claims: runClaims(nil)}) + `"}`
	want := explicitMaxTTLOf(t, real.Addr(), liveClientToken(t, real.Addr(), good))
	got := explicitMaxTTLOf(t, emu.URL, liveClientToken(t, emu.URL, good))
	if want != 1800 {
		t.Fatalf("real Vault's explicit_max_ttl is %d, want 1800: the set-up is off", want)
	}
	if got != want {
		t.Errorf("emulator's lookup-self says explicit_max_ttl %d, real Vault %d", got, want)
	}
}

// explicitMaxTTLOf reads lookup-self of token at base and returns its explicit_max_ttl.
func explicitMaxTTLOf(t *testing.T, base, token string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+"/v1/auth/token/lookup-self", strings.NewReader(""))
	req.Header.Set("X-Vault-Token", token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Data struct {
			ExplicitMaxTTL int `json:"explicit_max_ttl"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("lookup-self at %s: %d, %v", base, resp.StatusCode, err)
	}
	return out.Data.ExplicitMaxTTL
}
