package emulator

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/testutil/oidctest"
)

// awsTarget is a Set's HTTP handler served at srv, and the issuer its configuration names.
type awsTarget struct {
	srv *httptest.Server
	iss *oidctest.Issuer
}

// awsCall is one AssumeRoleWithWebIdentity call at a Set's HTTP handler.
type awsCall struct {
	path, role, aud string
}

// assumeWebIdentity posts c to at.srv (redirects not followed) with a token at.iss signs
// for stack a's write runs of space root, and returns the status and body.
func assumeWebIdentity(t *testing.T, at awsTarget, c awsCall) (int, string) {
	t.Helper()
	jwt := at.iss.Sign(t, oidctest.Token{Claims: map[string]any{
		"sub": "space:root:stack:a:run_type:TRACKED:scope:write", "aud": c.aud,
		"spaceId": "root", "callerType": "stack", "callerId": "a", "scope": "write",
	}})
	form := url.Values{"Action": {"AssumeRoleWithWebIdentity"}, "Version": {"2011-06-15"}, "RoleArn": {c.role},
		"RoleSessionName": {"probe-session"}, "WebIdentityToken": {jwt}}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.PostForm(at.srv.URL+c.path, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// TestAWSRoleTrustsItsIntegrationsAudience pins that an emulated AWS role trusts the
// configuration's own issuer and the audience its integration's tokens carry (a configured one, not
// STS's default), through the HTTP handler: a token for the configured audience gets credentials,
// one for sts.amazonaws.com is refused. It also pins that the STS mount answers at its bare path
// (no trailing slash), where an SDK whose endpoint is .../aws/sts posts, rather than redirecting
// the POST away.
// Guards against: awsRoles trusting "sts.amazonaws.com" instead of the printed audience,
// fromconfig.go:awsRoles
// Guards against: mount not handling the bare prefix (301 redirect), fromconfig.go:mount
// Guards against: AWS role trusting a fixed issuer instead of cfg.Issuer, fromconfig.go:awsRoles
func TestAWSRoleTrustsItsIntegrationsAudience(t *testing.T) {
	iss := oidctest.Start(t)
	set := fromYAML(t, `issuer: `+iss.URL+`
spaces: [{id: root}]
stacks: [{id: a, space: root}]
integrations:
  - {id: aws-ops, space: root, audience: ops-aws, aws: {role_arn: "arn:aws:iam::123456789012:role/ops"}}
attachments:
  - {stack: a, integration: aws-ops, write: true}
`)
	if r := set.awsConfig.Roles; len(r) != 1 || !slices.Equal(r[0].Trust.Audiences, []string{"ops-aws"}) || r[0].Trust.Issuer != iss.URL {
		t.Fatalf("roles %+v: want role ops trusting %s with audience ops-aws", r, iss.URL)
	}
	srv := httptest.NewServer(set.HTTPHandler())
	t.Cleanup(srv.Close)
	const role = "arn:aws:iam::123456789012:role/ops"
	for _, tc := range []struct {
		call awsCall
		want int
	}{
		{awsCall{path: AWSPath + "/", role: role, aud: "ops-aws"}, http.StatusOK},
		{awsCall{path: AWSPath, role: role, aud: "ops-aws"}, http.StatusOK},
		{awsCall{path: AWSPath + "/", role: role, aud: "sts.amazonaws.com"}, http.StatusBadRequest},
	} {
		status, body := assumeWebIdentity(t, awsTarget{srv: srv, iss: iss}, tc.call)
		if status != tc.want {
			t.Errorf("POST %s with aud %s: %d, want %d: %.300s", tc.call.path, tc.call.aud, status, tc.want, body)
		}
		if tc.want == http.StatusOK && !strings.Contains(body, "<SecretAccessKey>") {
			t.Errorf("POST %s: no credentials in %.300s", tc.call.path, body)
		}
	}
}

// TestEntraRunIDSubjectsAreNotTrusted pins that when a space's subject template puts the
// run id in `sub`, no Entra federated credential is made from the wildcard subject (Entra
// matches subjects exactly), and a note says so.
// Guards against: dropping the "*" check in fromconfig.go:azureApps
func TestEntraRunIDSubjectsAreNotTrusted(t *testing.T) {
	set := fromYAML(t, `issuer: https://broker.example.com
spaces: [{id: root, subject_template: "space:{spaceId}:stack:{callerId}:run:{runId}:scope:{scope}"}]
stacks: [{id: a, space: root}]
integrations:
  - {id: az, space: root, azure: {tenant_id: 00000000-0000-0000-0000-000000000001, client_id: 00000000-0000-0000-0000-000000000002}}
attachments:
  - {stack: a, integration: az, write: true}
`)
	for _, app := range set.azureConfig.Apps {
		for _, fc := range app.Federated {
			if strings.Contains(fc.Subject, "*") {
				t.Errorf("Entra application %s trusts the wildcard subject %q", app.ClientID, fc.Subject)
			}
		}
	}
	if !slices.ContainsFunc(set.Notes, func(n string) bool { return strings.Contains(n, "integration az: Entra needs exact subjects") }) {
		t.Errorf("notes %q do not say the run-id subjects are not emulated", set.Notes)
	}
}

// TestEntraApplicationOfExactlyTwenty pins the boundary of Entra's limit: an application
// whose attachments need exactly 20 federated credentials is emulated with all of them.
// Guards against: `len(app.Federated) <= trust.AzureMaxCredentials` -> `<`, fromconfig.go:azureApps
func TestEntraApplicationOfExactlyTwenty(t *testing.T) {
	set := fromYAML(t, `issuer: https://broker.example.com
spaces: [{id: root}]
stacks:
  - {id: s1, space: root, labels: [p]}
  - {id: s2, space: root, labels: [p]}
  - {id: s3, space: root, labels: [p]}
  - {id: s4, space: root, labels: [p]}
  - {id: s5, space: root, labels: [p]}
integrations:
  - id: az
    space: root
    azure: {tenant_id: 00000000-0000-0000-0000-000000000001, client_id: 00000000-0000-0000-0000-000000000002}
    autoattach: [{label: p, read: true}]
`)
	apps := set.azureConfig.Apps
	if len(apps) != 1 || len(apps[0].Federated) != 20 {
		n := -1
		if len(apps) == 1 {
			n = len(apps[0].Federated)
		}
		t.Fatalf("%d applications (first with %d credentials), notes %q: want one application with exactly 20", len(apps), n, set.Notes)
	}
}

// TestAzureHostWithoutTrailingSlash pins that the Entra emulator's host is the origin
// given, without a trailing slash, so the endpoints it names hold no "//".
// Guards against: dropping strings.TrimSuffix(azureHost, "/"), fromconfig.go:FromConfig
func TestAzureHostWithoutTrailingSlash(t *testing.T) {
	cfg, err := config.Parse("t.yaml", []byte("issuer: https://broker.example.com\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, host := range []string{"https://127.0.0.1:8082", "https://127.0.0.1:8082/"} {
		set, err := FromConfig(cfg, host)
		if err != nil {
			t.Fatal(err)
		}
		if set.azureConfig.Host != "https://127.0.0.1:8082" {
			t.Errorf("FromConfig(%q): Entra host %q, want https://127.0.0.1:8082", host, set.azureConfig.Host)
		}
	}
}

// TestGCPProviderAllowsItsIntegrationsAudience pins that an emulated workload identity provider
// allows the audience its GCP integration configures, as the printed provider does: a token for
// that audience is exchanged at STS, and one carrying the provider's default audience (which the
// configured provider does not allow) is refused 400.
// Guards against: AllowedAudiences not taken from the printed provider,
// fromconfig.go:emulatedProvider
func TestGCPProviderAllowsItsIntegrationsAudience(t *testing.T) {
	iss := oidctest.Start(t)
	const provider = "projects/1/locations/global/workloadIdentityPools/pool/providers/prov"
	set := fromYAML(t, `issuer: `+iss.URL+`
spaces: [{id: root}]
stacks: [{id: a, space: root}]
integrations:
  - {id: g, space: root, audience: my-gcp-aud, gcp: {workload_identity_provider: `+provider+`, service_account: s@p.iam.gserviceaccount.com}}
attachments:
  - {stack: a, integration: g, read: true}
`)
	srv := httptest.NewServer(set.HTTPHandler())
	t.Cleanup(srv.Close)
	for _, tc := range []struct {
		aud  string
		want int
	}{{"my-gcp-aud", http.StatusOK}, {"//iam.googleapis.com/" + provider, http.StatusBadRequest}} {
		jwt := iss.Sign(t, oidctest.Token{Claims: readRunClaims(tc.aud, "stack")})
		if got := postSTS(t, srv.URL+GCPSTSPath+"/v1/token", stsForm("//iam.googleapis.com/"+provider, jwt)); got != tc.want {
			t.Errorf("token for %s: %d, want %d", tc.aud, got, tc.want)
		}
	}
}

// TestEntraApplicationsOfTwoTenantsStayApart pins that two integrations naming one client
// id in two tenants are two Entra applications, each trusting its own attachment's subjects
// alone: an application never trusts a stack attached through another tenant.
// Guards against: Entra applications keyed by client id alone, fromconfig.go:azureApps
func TestEntraApplicationsOfTwoTenantsStayApart(t *testing.T) {
	set := fromYAML(t, `issuer: https://broker.example.com
spaces: [{id: root}]
stacks: [{id: a, space: root}, {id: b, space: root}]
integrations:
  - {id: az1, space: root, azure: {tenant_id: 00000000-0000-0000-0000-000000000001, client_id: 00000000-0000-0000-0000-00000000000c}}
  - {id: az2, space: root, azure: {tenant_id: 00000000-0000-0000-0000-000000000002, client_id: 00000000-0000-0000-0000-00000000000c}}
attachments:
  - {stack: a, integration: az1, write: true}
  - {stack: b, integration: az2, write: true}
`)
	stacks := map[string]string{"00000000-0000-0000-0000-000000000001": ":stack:a:", "00000000-0000-0000-0000-000000000002": ":stack:b:"}
	if len(set.azureConfig.Apps) != 2 {
		t.Fatalf("applications %+v: want one per tenant", set.azureConfig.Apps)
	}
	for _, app := range set.azureConfig.Apps {
		if len(app.Federated) == 0 {
			t.Errorf("application of tenant %s trusts nothing", app.TenantID)
		}
		for _, fc := range app.Federated {
			if !strings.Contains(fc.Subject, stacks[app.TenantID]) {
				t.Errorf("application of tenant %s trusts %s", app.TenantID, fc.Subject)
			}
		}
	}
}
