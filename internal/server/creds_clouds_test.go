package server

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	awsemu "github.com/brokerhq/broker/internal/emulator/aws"
	azureemu "github.com/brokerhq/broker/internal/emulator/azure"
	gcpemu "github.com/brokerhq/broker/internal/emulator/gcp"
	"github.com/brokerhq/broker/internal/runs"
	"github.com/brokerhq/broker/internal/trust"
)

// lateHandler lets an emulator listen before its configuration (which names broker's URL) exists.
type lateHandler struct{ h atomic.Pointer[http.Handler] }

func (l *lateHandler) set(h http.Handler) { l.h.Store(&h) }
func (l *lateHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h := l.h.Load(); h != nil {
		(*h).ServeHTTP(w, r)
		return
	}
	http.Error(w, "emulator not configured yet", http.StatusServiceUnavailable)
}

// startEmulator starts a plain-HTTP server whose handler is configured later.
func startEmulator(t *testing.T) (*httptest.Server, *lateHandler) {
	late := &lateHandler{}
	srv := httptest.NewServer(late)
	t.Cleanup(srv.Close)
	return srv, late
}

// startTLSEmulator is startEmulator over TLS, with httptest's certificate.
func startTLSEmulator(t *testing.T) (*httptest.Server, *lateHandler) {
	late := &lateHandler{}
	srv := httptest.NewTLSServer(late)
	t.Cleanup(srv.Close)
	return srv, late
}

// phases walks a TRACKED run of vpc-prod from a read phase to the apply phase and returns the
// credentials answers of both.
func readThenWrite(t *testing.T, ts *testServer, provider string) (read, write credentialsAnswer, runToken string) {
	t.Helper()
	run := ts.createRun(t, "vpc-prod", "TRACKED")
	read, code, env := ts.credentials(t, run.RunToken, provider, "")
	if code != 200 || read.Scope != "read" {
		t.Fatalf("read-phase %s credentials: %d %s", provider, code, env.Error.Message)
	}
	if code := ts.setPhase(t, run.Run.ID, "APPLYING"); code != 200 {
		t.Fatal(code)
	}
	write, code, env = ts.credentials(t, run.RunToken, provider, "")
	if code != 200 || write.Scope != "write" {
		t.Fatalf("apply-phase %s credentials: %d %s", provider, code, env.Error.Message)
	}
	return read, write, run.RunToken
}

// refusedUpstream asks credentials for app-a, whose read attachment points at an integration the
// cloud does not trust for it, and expects 502 with the cloud's message.
func refusedUpstream(t *testing.T, ts *testServer, provider, wantInMessage string) {
	t.Helper()
	run := ts.createRun(t, "app-a", "TRACKED")
	_, code, env := ts.credentials(t, run.RunToken, provider, "")
	if code != 502 || env.Error.Code != "upstream_error" || !strings.Contains(env.Error.Message, wantInMessage) {
		t.Errorf("%s refusal: %d %+v, want 502 mentioning %q", provider, code, env.Error, wantInMessage)
	}
	if jwtShaped.MatchString(env.Error.Message) {
		t.Errorf("a JWT reached the error message: %s", env.Error.Message)
	}
}

func TestAWSCredentials(t *testing.T) {
	emu, late := startEmulator(t)
	ts := startServer(t, serverOptions{extraYAML: fmt.Sprintf(`
integrations:
  - {id: aws-read, space: prod, aws: {role_arn: "arn:aws:iam::123456789012:role/vpc-read", region: eu-west-1, sts_endpoint: %[1]q}, duration: 15m}
  - {id: aws-write, space: prod, aws: {role_arn: "arn:aws:iam::123456789012:role/vpc-write", sts_endpoint: %[1]q, session_tags: true}}
attachments:
  - {stack: vpc-prod, integration: aws-read, read: true}
  - {stack: vpc-prod, integration: aws-write, write: true}
  - {stack: app-a, integration: aws-write, read: true}
`, emu.URL)})
	sts := awsemu.New(awsemu.Config{Roles: []awsemu.Role{
		{ARN: "arn:aws:iam::123456789012:role/vpc-read", Trust: awsemu.Trust{Issuer: ts.URL, Audiences: []string{"sts.amazonaws.com"},
			Subject: "space:prod:stack:vpc-prod:run_type:*:scope:read"}},
		{ARN: "arn:aws:iam::123456789012:role/vpc-write", Trust: awsemu.Trust{Issuer: ts.URL, Audiences: []string{"sts.amazonaws.com"},
			Subject: "space:prod:stack:vpc-prod:run_type:*:scope:write", TagSession: true}},
	}})
	late.set(sts)

	read, write, runToken := readThenWrite(t, ts, "aws")
	calls := sts.Calls()
	if len(calls) != 2 {
		t.Fatalf("%d STS calls, want 2", len(calls))
	}
	for i, want := range []struct{ role, scope string }{{"vpc-read", "read"}, {"vpc-write", "write"}} {
		c := calls[i]
		if c.Outcome != "ok" || !strings.HasSuffix(c.RoleARN, "role/"+want.role) || !strings.HasSuffix(c.Subject, ":scope:"+want.scope) ||
			c.Audience != "sts.amazonaws.com" || !strings.Contains(c.SessionName, runIDOf(t, ts, runToken)) {
			t.Errorf("STS call %d: %+v", i, c)
		}
	}
	if calls[0].DurationSeconds != 900 {
		t.Errorf("read duration %d, want the integration's 15m", calls[0].DurationSeconds)
	}
	if tags := calls[1].SessionTags; tags["scope"] != "write" || tags["stack"] != "vpc-prod" || tags["space"] != "prod" {
		t.Errorf("session tags of the write call: %v", tags)
	}
	if len(calls[0].SessionTags) != 0 {
		t.Errorf("read integration without session_tags sent tags: %v", calls[0].SessionTags)
	}
	for _, name := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"} {
		if read.Env[name] == "" || write.Env[name] == "" || read.Env[name] == write.Env[name] {
			t.Errorf("%s: read %q write %q", name, read.Env[name], write.Env[name])
		}
	}
	if read.Env["AWS_REGION"] != "eu-west-1" || write.Env["AWS_REGION"] != "" {
		t.Errorf("AWS_REGION read %q write %q: only an integration with region sets it", read.Env["AWS_REGION"], write.Env["AWS_REGION"])
	}
	if read.Integration != "aws-read" || write.Integration != "aws-write" || read.AWS["accessKeyId"] != read.Env["AWS_ACCESS_KEY_ID"] {
		t.Errorf("answers: %+v / %+v", read, write)
	}
	refusedUpstream(t, ts, "aws", "AccessDenied")
	var issued, refused int
	for _, e := range auditEvents(t, ts, "root", 100) {
		if e.Action == "credentials.issue" && e.Outcome == "success" && strings.HasPrefix(e.Integration, "aws-") {
			issued++
		}
		if e.Action == "credentials.issue" && e.Outcome == "error" && strings.Contains(e.Detail, "AccessDenied") {
			refused++
		}
	}
	if issued != 2 || refused != 1 {
		t.Errorf("audit: %d credentials issued, %d refused; want 2 and 1", issued, refused)
	}
	sts.FailNext(2, 503, "ServiceUnavailable") // retried, then served
	run := ts.createRun(t, "vpc-prod", "TRACKED")
	if _, code, env := ts.credentials(t, run.RunToken, "aws", ""); code != 200 {
		t.Errorf("after two 503s: %d %+v", code, env.Error)
	}
	assertNoSecretsLogged(t, ts, map[string]string{
		"secret key": read.Env["AWS_SECRET_ACCESS_KEY"], "session token": write.Env["AWS_SESSION_TOKEN"], "run token": runToken,
	})
}

func TestGCPCredentials(t *testing.T) {
	emu, late := startEmulator(t)
	const pool = "projects/123456/locations/global/workloadIdentityPools/broker"
	ts := startServer(t, serverOptions{extraYAML: fmt.Sprintf(`
integrations:
  - {id: gcp-read, space: prod, gcp: {workload_identity_provider: %[2]s/providers/broker, service_account: read@p.iam.gserviceaccount.com, sts_endpoint: %[1]q, iam_credentials_endpoint: %[1]q}}
  - {id: gcp-write, space: prod, gcp: {workload_identity_provider: %[2]s/providers/broker, service_account: write@p.iam.gserviceaccount.com, sts_endpoint: %[1]q, iam_credentials_endpoint: %[1]q}}
attachments:
  - {stack: vpc-prod, integration: gcp-read, read: true}
  - {stack: vpc-prod, integration: gcp-write, write: true}
  - {stack: app-a, integration: gcp-write, read: true}
`, emu.URL, pool)})
	google := gcpemu.New(gcpemu.Config{
		Providers: []gcpemu.Provider{{
			Name: pool + "/providers/broker", Issuer: ts.URL,
			AttributeMapping: map[string]string{"google.subject": "assertion.sub", "attribute.stack": "assertion.callerId", "attribute.scope": "assertion.scope"},
		}},
		ServiceAccounts: []gcpemu.ServiceAccount{
			{Email: "read@p.iam.gserviceaccount.com", Members: []string{"principalSet://iam.googleapis.com/" + pool + "/attribute.scope/read"}},
			{Email: "write@p.iam.gserviceaccount.com", Members: []string{"principal://iam.googleapis.com/" + pool + "/subject/space:prod:stack:vpc-prod:run_type:TRACKED:scope:write"}},
		},
	})
	late.set(google)

	read, write, runToken := readThenWrite(t, ts, "gcp")
	for ans, sa := range map[*credentialsAnswer]string{&read: "read@p.iam.gserviceaccount.com", &write: "write@p.iam.gserviceaccount.com"} {
		tok := ans.Env["GOOGLE_OAUTH_ACCESS_TOKEN"]
		info, ok := google.AccessTokenInfo(tok)
		if !ok || info.ServiceAccount != sa {
			t.Errorf("GOOGLE_OAUTH_ACCESS_TOKEN of %s is not the emulator's token for %s: %+v %v", ans.Integration, sa, info, ok)
		}
	}
	var sts []gcpemu.Call
	for _, c := range google.Calls() {
		if c.Endpoint == gcpemu.EndpointSTS {
			sts = append(sts, c)
		}
	}
	if len(sts) != 2 || sts[0].Audience != "//iam.googleapis.com/"+pool+"/providers/broker" || sts[0].Outcome != "ok" {
		t.Errorf("STS calls %+v: the token audience must be the provider's full resource name", sts)
	}
	refusedUpstream(t, ts, "gcp", "iam.serviceAccounts.getAccessToken")
	assertNoSecretsLogged(t, ts, map[string]string{"access token": read.Env["GOOGLE_OAUTH_ACCESS_TOKEN"], "run token": runToken})
}

// TestAzureCredentials exchanges with the Entra emulator, which like Entra accepts RS256
// assertions only: with keys.algorithm ES256 too, the assertions and ARM_OIDC_TOKEN are RS256.
func TestAzureCredentials(t *testing.T) {
	for _, alg := range []string{"RS256", "ES256"} {
		t.Run(alg, func(t *testing.T) { azureCredentials(t, alg) })
	}
}

func azureCredentials(t *testing.T, alg string) {
	emu, late := startTLSEmulator(t)
	const tenant = "00000000-0000-0000-0000-00000000000a"
	ts := startServer(t, serverOptions{alg: alg, upstream: emu.Client().Transport, extraYAML: fmt.Sprintf(`
integrations:
  - {id: az-read, space: prod, azure: {tenant_id: %[2]s, client_id: 00000000-0000-0000-0000-0000000000a1, subscription_id: 00000000-0000-0000-0000-0000000000b1, authority_host: %[1]q}}
  - {id: az-write, space: prod, azure: {tenant_id: %[2]s, client_id: 00000000-0000-0000-0000-0000000000a2, authority_host: %[1]q}}
attachments:
  - {stack: vpc-prod, integration: az-read, read: true}
  - {stack: vpc-prod, integration: az-write, write: true}
  - {stack: app-a, integration: az-write, read: true}
`, emu.URL, tenant)})
	// Each app trusts exactly the federated credentials `broker trust azure` prints for it.
	federated := func(scope runs.Scope) []azureemu.FederatedCredential {
		doc, err := trust.Render(ts.srv.cfg, trust.Request{Provider: "azure", Stack: "vpc-prod", Scope: scope})
		if err != nil {
			t.Fatal(err)
		}
		var creds []struct {
			Issuer, Subject string
			Audiences       []string
		}
		remarshal(t, doc, &creds)
		var out []azureemu.FederatedCredential
		for _, c := range creds {
			out = append(out, azureemu.FederatedCredential{Issuer: c.Issuer, Subject: c.Subject, Audiences: c.Audiences})
		}
		return out
	}
	entra := azureemu.New(azureemu.Config{Host: emu.URL, Apps: []azureemu.App{
		{TenantID: tenant, ClientID: "00000000-0000-0000-0000-0000000000a1", Federated: federated(runs.Read)},
		{TenantID: tenant, ClientID: "00000000-0000-0000-0000-0000000000a2", Federated: federated(runs.Write)},
	}})
	late.set(entra)

	read, write, runToken := readThenWrite(t, ts, "azure")
	want := map[string]string{"ARM_TENANT_ID": tenant, "ARM_CLIENT_ID": "00000000-0000-0000-0000-0000000000a1", "ARM_USE_OIDC": "true", "ARM_SUBSCRIPTION_ID": "00000000-0000-0000-0000-0000000000b1"}
	for name, v := range want {
		if read.Env[name] != v {
			t.Errorf("read %s = %q, want %q", name, read.Env[name], v)
		}
	}
	if write.Env["ARM_CLIENT_ID"] != "00000000-0000-0000-0000-0000000000a2" || write.Env["ARM_SUBSCRIPTION_ID"] != "" {
		t.Errorf("write env %v", write.Env)
	}
	for _, ans := range []credentialsAnswer{read, write} {
		oidcTok := ans.Env["ARM_OIDC_TOKEN"]
		c := decodePayload(t, oidcTok)
		if c["aud"] != "api://AzureADTokenExchange" || c["scope"] != ans.Scope {
			t.Errorf("ARM_OIDC_TOKEN claims %v", c)
		}
		if h := jwtHeader(t, oidcTok); h["alg"] != "RS256" {
			t.Errorf("ARM_OIDC_TOKEN signed with %v, want RS256 (all Entra accepts)", h["alg"])
		}
		if ans.Azure["accessToken"] == "" || ans.Azure["accessToken"] == nil {
			t.Errorf("no azure.accessToken in %+v", ans.Azure)
		}
	}
	var tokenCalls []azureemu.Call
	for _, c := range entra.Calls() {
		if strings.HasSuffix(c.Path, "/oauth2/v2.0/token") {
			tokenCalls = append(tokenCalls, c)
		}
	}
	if len(tokenCalls) != 2 || tokenCalls[0].ClientID != "00000000-0000-0000-0000-0000000000a1" || tokenCalls[1].ClientID != "00000000-0000-0000-0000-0000000000a2" || tokenCalls[1].Outcome != "ok" {
		t.Errorf("Entra token calls %+v", tokenCalls)
	}
	refusedUpstream(t, ts, "azure", "AADSTS70021")
	assertNoSecretsLogged(t, ts, map[string]string{"access token": fmt.Sprint(read.Azure["accessToken"]), "run token": runToken})
}

// runIDOf asks the server which run a run token belongs to, through a minted token's claims.
func runIDOf(t *testing.T, ts *testServer, runToken string) string {
	t.Helper()
	tok, _ := ts.mint(t, runToken, "x")
	id, _ := decodePayload(t, tok.Token)["runId"].(string)
	return id
}

func decodePayload(t *testing.T, jwt string) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT")
	}
	var out map[string]any
	remarshal(t, mustB64(t, parts[1]), &out)
	return out
}
