package vaultemu

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/testutil/oidctest"
	"github.com/brokerhq/broker/internal/testutil/vaulttest"
)

// TestLoginNoLenientThanVault sends logins that a real Vault dev server refuses to it
// and to the emulator configured alike: the emulator, the stricter of the two by design, must
// refuse each one too, with Vault's status and message. Vault lower-cases a role name (so "xſ"
// is not "xs", though the two fold alike), decodes the registered claims into a struct whose
// keys match case-insensitively under Unicode folding (so "Sub", "EXP", "JTI" of the wrong type
// and an "iſs" naming another issuer are refused), and creates no alias for an empty user.
func TestLoginNoLenientThanVault(t *testing.T) {
	real, emu, iss := twinsWithRoleXS(t)
	sign := func(extra map[string]any) string {
		return iss.Sign(t, oidctest.Token{Claims: runClaims(extra)})
	}
	for _, tc := range []struct {
		name string
		body map[string]any
	}{
		{"control: accepted", map[string]any{"role": "xs", "jwt": sign(nil)}},
		{"role name with long s", map[string]any{"role": "x\u017f", "jwt": sign(nil)}},
		{"Sub a number", map[string]any{"role": "xs", "jwt": sign(map[string]any{"Sub": 5})}},
		{"EXP a string", map[string]any{"role": "xs", "jwt": sign(map[string]any{"EXP": "soon"})}},
		{"JTI a number", map[string]any{"role": "xs", "jwt": sign(map[string]any{"JTI": 5})}},
		{"iss with long s", map[string]any{"role": "xs",
			"jwt": sign(map[string]any{"i\u017fs": "https://elsewhere.example"})}},
		{"sub empty", map[string]any{"role": "xs", "jwt": sign(map[string]any{"sub": ""})}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want, got := post(t, real.Addr(), tc.body), post(t, emu.URL, tc.body)
			if want.Status != http.StatusOK && got != want {
				t.Errorf("emulator answered %+v, Vault refused %+v", got, want)
			}
		})
	}
}

// TestStricterThanVaultOnExp pins where the emulator is stricter than Vault on purpose: a
// token without exp, or whose exp is null, is refused 400 as one without an expiration time,
// though Vault 1.21.0 takes both. broker never issues a token without exp, and a trust policy
// tested against the emulator must not come to rely on one.
func TestStricterThanVaultOnExp(t *testing.T) {
	real, emu, iss := twinsWithRoleXS(t)
	nullExp := runClaims(nil)
	nullExp["exp"] = nil // kept as null: Sign fills in only absent claims
	for name, tok := range map[string]oidctest.Token{
		"no exp":   {Claims: runClaims(nil), Omit: []string{"exp"}},
		"exp null": {Claims: nullExp},
	} {
		body := map[string]any{"role": "xs", "jwt": iss.Sign(t, tok)}
		vault, got := post(t, real.Addr(), body), post(t, emu.URL, body)
		if vault.Status != http.StatusOK {
			t.Errorf("%s: Vault answered %+v; it took such a token when this test was written",
				name, vault)
		}
		want := `["error validating token: no expiration time (exp) claim in token"]`
		if got.Status != http.StatusBadRequest || got.Errors != want {
			t.Errorf("%s: emulator answered %+v, want 400 %s", name, got, want)
		}
	}
}

// twinsWithRoleXS starts a real Vault dev server and the emulator, each with the JWT auth
// method at jwt trusting a new test issuer and one role xs (audience vault, user claim sub),
// stopped when t ends. It returns both and the issuer.
func twinsWithRoleXS(t *testing.T) (real *vaulttest.Server, emu *httptest.Server,
	iss *oidctest.Issuer) {
	t.Helper()
	real = vaulttest.Start(t)
	iss = oidctest.Start(t)
	real.EnableJWT(t, vaulttest.JWTConfig{Mount: "jwt", DiscoveryURL: iss.URL,
		BoundIssuer: iss.URL})
	real.WriteRole(t, "jwt", "xs", map[string]any{"bound_audiences": []string{"vault"},
		"user_claim": "sub", "token_policies": []string{"demo"}, "token_ttl": "30m"})
	emu = httptest.NewServer(New(Config{Mounts: []Mount{{Path: "jwt", BoundIssuer: iss.URL,
		Roles: []Role{{Name: "xs", BoundAudiences: []string{"vault"}, UserClaim: "sub",
			Policies: []string{"demo"}, TTL: 30 * time.Minute}}}}}))
	t.Cleanup(emu.Close)
	return real, emu, iss
}

// TestRootPolicyLoginAsVault pins the emulator against Vault on a role granting "root" (in any
// case, beside blank names): Vault takes the role and refuses each login with the same status
// and message, which the emulator answers too.
// Guards against: login.go:login issuing a token with the root policy
func TestRootPolicyLoginAsVault(t *testing.T) {
	real := vaulttest.Start(t)
	iss := oidctest.Start(t)
	real.EnableJWT(t, vaulttest.JWTConfig{Mount: "jwt", DiscoveryURL: iss.URL, BoundIssuer: iss.URL})
	policies := []string{"demo", " ", " Root "}
	real.WriteRole(t, "jwt", "xs", map[string]any{"bound_audiences": []string{"vault"},
		"user_claim": "sub", "token_policies": policies})
	emu := httptest.NewServer(New(Config{Mounts: []Mount{{Path: "jwt", BoundIssuer: iss.URL,
		Roles: []Role{{Name: "xs", BoundAudiences: []string{"vault"}, UserClaim: "sub", Policies: policies}}}}}))
	t.Cleanup(emu.Close)
	body := map[string]any{"role": "xs", "jwt": iss.Sign(t, oidctest.Token{Claims: runClaims(nil)})}
	want, got := post(t, real.Addr(), body), post(t, emu.URL, body)
	if want.Status == http.StatusOK || got != want {
		t.Errorf("a role granting root: emulator answered %+v, Vault %+v", got, want)
	}
}
