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

// loggedInSelf is what a login and the lookup-self of its token say, less random ids.
type loggedInSelf struct {
	LoginPolicies string
	SelfPolicies  string
	DisplayName   string
	Meta          string
	// EntityID tells whether lookup-self names the entity the login gave the token.
	EntityID bool
}

// loginAndLookup logs in at base with body and looks the token up.
func loginAndLookup(t *testing.T, base, body string) loggedInSelf {
	t.Helper()
	hdr := map[string]string{"X-Vault-Request": "true"}
	_, login := sendVault(t, base,
		vaultRequest{path: "/v1/auth/jwt/login", body: body, header: hdr})
	auth, _ := login["auth"].(map[string]any)
	token, _ := auth["client_token"].(string)
	if token == "" {
		t.Fatalf("login at %s: %v", base, login)
	}
	_, self := sendVault(t, base, vaultRequest{method: http.MethodGet,
		path: "/v1/auth/token/lookup-self", header: map[string]string{"X-Vault-Token": token,
			"X-Vault-Request": "true"}})
	data, _ := self["data"].(map[string]any)
	lp, _ := json.Marshal(auth["policies"])
	sp, _ := json.Marshal(data["policies"])
	meta, _ := json.Marshal(data["meta"])
	name, _ := data["display_name"].(string)
	entity, _ := data["entity_id"].(string)
	return loggedInSelf{LoginPolicies: string(lp), SelfPolicies: string(sp), DisplayName: name,
		Meta: string(meta), EntityID: entity != "" && entity == auth["entity_id"]}
}

// TestPrintedRoleAnswersAsVault checks that a role as `broker trust vault` prints it for
// an integration whose Vault role is spelled with capitals ("Deploy", which the config's role
// rule allows) logs in on the emulator with the same policies, display name and metadata as
// on a real Vault holding the same role: Vault keeps policy names in lower case, and names a
// JWT login's token after the mount and the user claim (the sub), not the role.
func TestPrintedRoleAnswersAsVault(t *testing.T) {
	real := vaulttest.Start(t)
	iss := oidctest.Start(t)
	real.EnableJWT(t,
		vaulttest.JWTConfig{Mount: "jwt", DiscoveryURL: iss.URL, BoundIssuer: iss.URL})
	real.WriteRole(t, "jwt", "Deploy", map[string]any{
		"bound_audiences": []string{"vault"}, "user_claim": "sub", "bound_claims_type": "string",
		"bound_claims":   map[string]any{"callerId": "demo-stack", "scope": "read"},
		"token_policies": []string{"Deploy"}, "token_ttl": "1800s", "token_max_ttl": "1800s",
		"token_explicit_max_ttl": "1800s",
	})
	emu := httptest.NewServer(New(Config{Mounts: []Mount{{Path: "jwt", BoundIssuer: iss.URL,
		Roles: []Role{{Name: "deploy", BoundAudiences: []string{"vault"}, UserClaim: "sub",
			BoundClaims: map[string][]string{"callerId": {"demo-stack"}, "scope": {"read"}},
			Policies:    []string{"Deploy"}, TTL: 30 * time.Minute}}}}}))
	defer emu.Close()
	data, _ := json.Marshal(map[string]any{"role": "Deploy",
		"jwt": iss.Sign(t, oidctest.Token{Claims: runClaims(nil)})})
	want := loginAndLookup(t, real.Addr(), string(data))
	got := loginAndLookup(t, emu.URL, string(data))
	if got != want {
		t.Errorf("emulator:\n%+v\nVault:\n%+v", got, want)
	}
	if strings.Contains(got.LoginPolicies, "Deploy") {
		t.Errorf("emulator reports policy names in capitals: %s", got.LoginPolicies)
	}
}
