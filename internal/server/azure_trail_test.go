package server

import (
	"fmt"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/emulator"
)

// TestAzureOIDCTokenInTrail: the Azure answer hands the worker ARM_OIDC_TOKEN, a broker ID
// token; its credentials.issue event names that token's audience and jti, never the token.
func TestAzureOIDCTokenInTrail(t *testing.T) {
	emu, late := startTLSEmulator(t)
	const tenant = "00000000-0000-0000-0000-00000000000a"
	ts := startServer(t, serverOptions{upstream: emu.Client().Transport, extraYAML: fmt.Sprintf(`
integrations:
  - {id: az-read, space: prod, azure: {tenant_id: %[2]s, client_id: 00000000-0000-0000-0000-0000000000a1, authority_host: %[1]q}}
attachments:
  - {stack: vpc-prod, integration: az-read, read: true}
`, emu.URL, tenant)})
	set, err := emulator.FromConfig(ts.srv.cfg, emu.URL) // Entra trusts what the attachments say
	if err != nil {
		t.Fatal(err)
	}
	late.set(set.TLSHandler())
	run := ts.createRun(t, "vpc-prod", "TRACKED")
	ans, code, env := ts.credentials(t, run.RunToken, "azure", "")
	if code != 200 {
		t.Fatalf("%d %+v", code, env)
	}
	jti, _ := decodePayload(t, ans.Env["ARM_OIDC_TOKEN"])["jti"].(string)
	if jti == "" {
		t.Fatal("no jti")
	}
	var details []string
	for _, e := range auditEvents(t, ts, "prod", 100) {
		details = append(details, e.Action+": "+e.Detail)
		if e.Action == "credentials.issue" && strings.Contains(e.Detail, "aud=api://AzureADTokenExchange jti="+jti) {
			if strings.Contains(e.Detail, ans.Env["ARM_OIDC_TOKEN"]) {
				t.Errorf("the event holds the token: %s", e.Detail)
			}
			return
		}
	}
	t.Errorf("ARM_OIDC_TOKEN (jti %s) was handed to the worker, but no credentials.issue event names it; trail:\n%s", jti, strings.Join(details, "\n"))
}
