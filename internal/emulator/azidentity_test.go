package emulator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/brokerhq/broker/internal/config"
	azureemu "github.com/brokerhq/broker/internal/emulator/azure"
	"github.com/brokerhq/broker/internal/runs"
	"github.com/brokerhq/broker/internal/testutil/oidctest"
	"github.com/brokerhq/broker/internal/trust"
)

const (
	entraTenant = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	entraClient = "11111111-2222-3333-4444-555555555555"
	entraScope  = "https://management.azure.com/.default"
)

// entra is `broker emulator`'s Entra listener (Set.TLSHandler over TLS with a test CA) for a
// configuration whose issuer is a test issuer, and what azidentity needs to reach it.
type entra struct {
	iss     *oidctest.Issuer
	set     *Set
	srv     *httptest.Server
	subject string // the write subject the emulator trusts
}

func startEntra(t *testing.T) *entra {
	t.Helper()
	iss := oidctest.Start(t)
	cfg, err := config.Parse("broker.yaml", []byte(`issuer: `+iss.URL+`
spaces: [{id: root}]
stacks: [{id: vpc, space: root}]
integrations:
  - {id: azure, space: root, azure: {tenant_id: `+entraTenant+`, client_id: `+entraClient+`}}
attachments:
  - {stack: vpc, integration: azure, write: true}
`))
	if err != nil {
		t.Fatal(err)
	}
	subs, err := trust.Subjects(cfg, "vpc", runs.Write)
	if err != nil || len(subs) == 0 {
		t.Fatalf("subjects %v: %v", subs, err)
	}
	srv := httptest.NewUnstartedServer(nil)
	set, err := FromConfig(cfg, "https://"+srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = set.TLSHandler()
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return &entra{iss: iss, set: set, srv: srv, subject: subs[0]}
}

// assertion is a token of the configuration's issuer for the trusted subject and Entra's
// audience unless claims override them.
func (e *entra) assertion(t *testing.T, tok oidctest.Token) string {
	t.Helper()
	claims := map[string]any{"sub": e.subject, "aud": azureemu.DefaultAudience}
	for k, v := range tok.Claims {
		claims[k] = v
	}
	tok.Claims = claims
	return e.iss.Sign(t, tok)
}

// instanceDiscovery says whether a client asks MSAL's instance discovery service first.
type instanceDiscovery int

const (
	// discoveryDisabled is a client with DisableInstanceDiscovery, as a private authority host
	// is configured.
	discoveryDisabled instanceDiscovery = iota
	// discoveryOnEmulator is a client with MSAL's default instance discovery, whose calls to
	// Microsoft's discovery service go to the emulator.
	discoveryOnEmulator
)

// clientOptions trust the test CA, never retry, and, with discoveryOnEmulator, send what MSAL
// asks Microsoft's instance discovery service (login.microsoftonline.com) to the emulator, which
// plays that service too: nothing leaves loopback.
func (e *entra) clientOptions(d instanceDiscovery) policy.ClientOptions {
	var tr policy.Transporter = e.srv.Client()
	if d == discoveryOnEmulator {
		tr = toEmulator{next: tr, host: strings.TrimPrefix(e.srv.URL, "https://")}
	}
	return policy.ClientOptions{Transport: tr, Retry: policy.RetryOptions{MaxRetries: -1}}
}

type toEmulator struct {
	next policy.Transporter
	host string
}

func (d toEmulator) Do(req *http.Request) (*http.Response, error) {
	if req.URL.Host == "login.microsoftonline.com" {
		r := req.Clone(req.Context())
		r.URL.Host, r.Host = d.host, ""
		req = r
	}
	return d.next.Do(req)
}

// tokenCalls are the emulator's answers to token requests.
func (e *entra) tokenCalls() []azureemu.Call {
	var out []azureemu.Call
	for _, c := range e.set.Azure.Calls() {
		if strings.HasSuffix(c.Path, "/oauth2/v2.0/token") {
			out = append(out, c)
		}
	}
	return out
}

func getToken(t *testing.T, cred azcore.TokenCredential) (azcore.AccessToken, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{entraScope}})
}

// TestClientAssertionCredentialGetsAToken drives azidentity's ClientAssertionCredential with the
// emulator's origin as authority host, with instance discovery disabled (how a private authority
// host is configured) and with MSAL's default instance discovery.
func TestClientAssertionCredentialGetsAToken(t *testing.T) {
	for _, discovery := range []instanceDiscovery{discoveryDisabled, discoveryOnEmulator} {
		t.Run(map[instanceDiscovery]string{discoveryDisabled: "instance discovery disabled", discoveryOnEmulator: "instance discovery"}[discovery], func(t *testing.T) {
			e := startEntra(t)
			opts := e.clientOptions(discovery)
			opts.Cloud = cloud.Configuration{ActiveDirectoryAuthorityHost: e.srv.URL}
			cred, err := azidentity.NewClientAssertionCredential(entraTenant, entraClient,
				func(context.Context) (string, error) { return e.assertion(t, oidctest.Token{}), nil },
				&azidentity.ClientAssertionCredentialOptions{ClientOptions: opts, DisableInstanceDiscovery: discovery == discoveryDisabled})
			if err != nil {
				t.Fatal(err)
			}
			tk, err := getToken(t, cred)
			if err != nil {
				t.Fatalf("GetToken: %v", err)
			}
			if tk.Token == "" || time.Until(tk.ExpiresOn) < 50*time.Minute {
				t.Errorf("token %+v", tk)
			}
			calls := e.tokenCalls()
			if len(calls) != 1 || calls[0].Outcome != "ok" || calls[0].Subject != e.subject || calls[0].Tenant != entraTenant {
				t.Errorf("token calls %+v", calls)
			}
			asked := slices.ContainsFunc(e.set.Azure.Calls(), func(c azureemu.Call) bool {
				return c.Path == "/common/discovery/instance" && c.Tenant == entraTenant && c.Outcome == "ok"
			})
			if want := discovery == discoveryOnEmulator; asked != want {
				t.Errorf("instance discovery asked: %v, want %v (calls %+v)", asked, want, e.set.Azure.Calls())
			}
		})
	}
}

// TestWorkloadIdentityCredentialFromEnvironment configures azidentity the way a run does:
// AZURE_AUTHORITY_HOST, AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_FEDERATED_TOKEN_FILE holding
// the token, through WorkloadIdentityCredential and DefaultAzureCredential.
func TestWorkloadIdentityCredentialFromEnvironment(t *testing.T) {
	e := startEntra(t)
	file := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(file, []byte(e.assertion(t, oidctest.Token{})), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AZURE_AUTHORITY_HOST", e.srv.URL)
	t.Setenv("AZURE_TENANT_ID", entraTenant)
	t.Setenv("AZURE_CLIENT_ID", entraClient)
	t.Setenv("AZURE_FEDERATED_TOKEN_FILE", file)
	for _, k := range []string{"AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PATH", "AZURE_USERNAME", "AZURE_TOKEN_CREDENTIALS"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}

	wi, err := azidentity.NewWorkloadIdentityCredential(&azidentity.WorkloadIdentityCredentialOptions{
		ClientOptions: e.clientOptions(discoveryDisabled), DisableInstanceDiscovery: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := getToken(t, wi); err != nil {
		t.Fatalf("WorkloadIdentityCredential: %v", err)
	}
	wiDiscovery, err := azidentity.NewWorkloadIdentityCredential(&azidentity.WorkloadIdentityCredentialOptions{
		ClientOptions: e.clientOptions(discoveryOnEmulator),
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := getToken(t, wiDiscovery); err != nil {
		t.Fatalf("WorkloadIdentityCredential with instance discovery: %v", err)
	}
	def, err := azidentity.NewDefaultAzureCredential(&azidentity.DefaultAzureCredentialOptions{
		ClientOptions: e.clientOptions(discoveryDisabled), DisableInstanceDiscovery: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := getToken(t, def); err != nil {
		t.Fatalf("DefaultAzureCredential: %v", err)
	}
	calls := e.tokenCalls()
	if len(calls) != 3 || slices.ContainsFunc(calls, func(c azureemu.Call) bool { return c.Outcome != "ok" || c.Subject != e.subject }) {
		t.Errorf("token calls %+v", calls)
	}
}

// TestAzidentityIsRefusedWhatEntraRefuses: the emulator served to azidentity stays strict.
func TestAzidentityIsRefusedWhatEntraRefuses(t *testing.T) {
	e := startEntra(t)
	cases := []struct {
		name string
		tok  oidctest.Token
		code string
	}{
		{"wrong audience", oidctest.Token{Claims: map[string]any{"aud": "sts.amazonaws.com"}}, "AADSTS700212"},
		{"expired", oidctest.Token{ExpiresIn: -time.Hour}, "AADSTS700024"},
		{"other subject", oidctest.Token{Claims: map[string]any{"sub": e.subject + "x"}}, "AADSTS70021"},
		{"unpublished key", oidctest.Token{Rogue: true}, "AADSTS700027"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			opts := e.clientOptions(discoveryDisabled)
			opts.Cloud = cloud.Configuration{ActiveDirectoryAuthorityHost: e.srv.URL}
			cred, err := azidentity.NewClientAssertionCredential(entraTenant, entraClient,
				func(context.Context) (string, error) { return e.assertion(t, c.tok), nil },
				&azidentity.ClientAssertionCredentialOptions{ClientOptions: opts, DisableInstanceDiscovery: true})
			if err != nil {
				t.Fatal(err)
			}
			_, err = getToken(t, cred)
			var afe *azidentity.AuthenticationFailedError
			if !errors.As(err, &afe) || !strings.Contains(err.Error(), c.code) {
				t.Fatalf("GetToken error %v, want an authentication failure %s", err, c.code)
			}
		})
	}
}

// TestTLSHandlerNamesThePathItIsAskedUnder: at the root the documents name the origin; under
// AzurePath (broker's path-prefixed authority_host) they name that path, and instance discovery
// reads the tenant after it.
func TestTLSHandlerNamesThePathItIsAskedUnder(t *testing.T) {
	e := startEntra(t)
	get := func(path string) (int, map[string]any) {
		t.Helper()
		resp, err := e.srv.Client().Get(e.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&body) // a body that is not an object fails the checks below
		return resp.StatusCode, body
	}
	discovery := func(prefix, endpointPrefix string) (int, map[string]any) {
		q := url.Values{"api-version": {"1.1"}, "authorization_endpoint": {e.srv.URL + endpointPrefix + "/" + entraTenant + "/oauth2/v2.0/authorize"}}
		return get(prefix + "/common/discovery/instance?" + q.Encode())
	}
	for _, prefix := range []string{"", AzurePath} {
		base := e.srv.URL + prefix + "/" + entraTenant
		if status, body := get(prefix + "/" + entraTenant + "/v2.0/.well-known/openid-configuration"); status != 200 ||
			body["issuer"] != base+"/v2.0" || body["token_endpoint"] != base+"/oauth2/v2.0/token" {
			t.Errorf("%q: metadata %d %v, want issuer %s/v2.0", prefix, status, body, base)
		}
		if status, body := discovery(prefix, prefix); status != 200 || body["tenant_discovery_endpoint"] != base+"/v2.0/.well-known/openid-configuration" {
			t.Errorf("%q: instance discovery %d %v", prefix, status, body)
		}
	}
	if status, body := discovery(AzurePath, ""); status != 400 || !strings.Contains(fmt.Sprint(body["error_description"]), "AADSTS50049") {
		t.Errorf("discovery under %s for an authority outside it: %d %v, want AADSTS50049", AzurePath, status, body)
	}
}
