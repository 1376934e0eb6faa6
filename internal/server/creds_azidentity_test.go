package server

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/brokerhq/broker/internal/emulator"
)

// TestAzidentityWithABrokerToken is what a run does after `broker credentials azure`: it hands
// the ARM_OIDC_TOKEN broker minted to Microsoft's own client (WorkloadIdentityCredential, set up
// by AZURE_AUTHORITY_HOST, AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_FEDERATED_TOKEN_FILE) against
// `broker emulator`'s Entra ID, which trusts exactly what the configuration's attachments say and
// checks the token's signature against broker's JWKS. broker's own exchange goes to the same
// authority host, without a path.
func TestAzidentityWithABrokerToken(t *testing.T) {
	emu, late := startTLSEmulator(t)
	const tenant = "00000000-0000-0000-0000-00000000000a"
	ts := startServer(t, serverOptions{upstream: emu.Client().Transport, extraYAML: fmt.Sprintf(`
integrations:
  - {id: az-read, space: prod, azure: {tenant_id: %[2]s, client_id: 00000000-0000-0000-0000-0000000000a1, authority_host: %[1]q}}
  - {id: az-write, space: prod, azure: {tenant_id: %[2]s, client_id: 00000000-0000-0000-0000-0000000000a2, authority_host: %[1]q}}
attachments:
  - {stack: vpc-prod, integration: az-read, read: true}
  - {stack: vpc-prod, integration: az-write, write: true}
`, emu.URL, tenant)})
	set, err := emulator.FromConfig(ts.srv.cfg, emu.URL)
	if err != nil {
		t.Fatal(err)
	}
	late.set(set.TLSHandler())

	read, write, _ := readThenWrite(t, ts, "azure")
	for _, k := range []string{"AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PATH", "AZURE_USERNAME"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	t.Setenv("AZURE_AUTHORITY_HOST", emu.URL)
	t.Setenv("AZURE_TENANT_ID", tenant)
	cases := []struct {
		name   string
		token  string
		client string
		refuse string // the AADSTS code expected, "" for a token
	}{
		{"write token for the write app", write.Env["ARM_OIDC_TOKEN"], "00000000-0000-0000-0000-0000000000a2", ""},
		{"read token for the read app", read.Env["ARM_OIDC_TOKEN"], "00000000-0000-0000-0000-0000000000a1", ""},
		{"read token for the write app", read.Env["ARM_OIDC_TOKEN"], "00000000-0000-0000-0000-0000000000a2", "AADSTS70021"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "azure-token")
			if err := os.WriteFile(file, []byte(c.token), 0o600); err != nil {
				t.Fatal(err)
			}
			t.Setenv("AZURE_CLIENT_ID", c.client)
			t.Setenv("AZURE_FEDERATED_TOKEN_FILE", file)
			cred, err := azidentity.NewWorkloadIdentityCredential(&azidentity.WorkloadIdentityCredentialOptions{
				ClientOptions: policy.ClientOptions{Transport: emu.Client(), Retry: policy.RetryOptions{MaxRetries: -1}},
				// A private authority host is not in Microsoft's instance metadata.
				DisableInstanceDiscovery: true,
			})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			tk, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{"https://management.azure.com/.default"}})
			switch {
			case c.refuse == "" && (err != nil || tk.Token == ""):
				t.Fatalf("GetToken: %v", err)
			case c.refuse != "" && (err == nil || !strings.Contains(err.Error(), c.refuse)):
				t.Fatalf("GetToken error %v, want %s", err, c.refuse)
			}
		})
	}
}
