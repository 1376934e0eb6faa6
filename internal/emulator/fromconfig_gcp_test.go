package emulator

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/exchange"
	"github.com/brokerhq/broker/internal/runs"
	"github.com/brokerhq/broker/internal/testutil/oidctest"
	"github.com/brokerhq/broker/internal/trust"
)

// TestFromConfigGCPAsTrustPrints: the emulated Google takes what `broker trust gcp` prints.
// With space and stack ids long enough that a run's sub is over Google's 127 bytes, the
// printed mapping takes the run id as google.subject and the binding names the space, stack
// and scope: the run's token gets the service account, and a token naming another stack or
// space, or the other scope, does not.
func TestFromConfigGCPAsTrustPrints(t *testing.T) {
	iss := oidctest.Start(t)
	space := "s" + strings.Repeat("a", 62)
	stack, stack2 := "k"+strings.Repeat("b", 62), "j"+strings.Repeat("b", 62)
	provider := "projects/1/locations/global/workloadIdentityPools/pool/providers/prov1"
	sa := "s1@p.iam.gserviceaccount.com"
	cfg, err := config.Parse("t.yaml", []byte(`issuer: `+iss.URL+`
spaces: [{id: root}, {id: `+space+`, parent: root}, {id: other, parent: root}]
stacks: [{id: `+stack+`, space: `+space+`}, {id: `+stack2+`, space: `+space+`}]
integrations:
  - {id: g1, space: `+space+`, gcp: {workload_identity_provider: `+provider+`, service_account: `+sa+`}}
attachments:
  - {stack: `+stack+`, integration: g1, read: true}
`))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := trust.Render(cfg, trust.Request{Provider: exchange.GCP, Stack: stack, Scope: runs.Read, Integration: "g1"})
	if err != nil {
		t.Fatal(err)
	}
	if got := doc.(trust.GCPTrust).Provider.AttributeMapping["google.subject"]; got != "assertion.runId" {
		t.Fatalf("printed google.subject = %s, want assertion.runId for a sub over 127 bytes", got)
	}
	set, err := FromConfig(cfg, "https://127.0.0.1:8082")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(set.HTTPHandler())
	defer srv.Close()
	aud := "//iam.googleapis.com/" + provider
	for _, tc := range []struct {
		name, space, stack, scope string
		sts, iam                  int // 0: not reached
	}{
		{"the attached stack", space, stack, "read", 200, 200},
		{"another stack of the space", space, stack2, "read", 200, 403},
		{"the stack at the other scope", space, stack, "write", 200, 403},
		{"a space the provider does not admit", "other", stack, "read", 400, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			jwt := iss.Sign(t, oidctest.Token{Claims: map[string]any{
				"sub": "space:" + tc.space + ":stack:" + tc.stack + ":run_type:TRACKED:scope:" + tc.scope, "aud": aud,
				"spaceId": tc.space, "callerType": "stack", "callerId": tc.stack, "scope": tc.scope,
				"runType": "TRACKED", "runPhase": "PLANNING", "runId": "01HZX3K9Q8W7E6R5T4Y3U2I1O0",
			}})
			status, body := post(t, srv.URL+GCPSTSPath+"/v1/token", "", stsForm(aud, jwt).Encode())
			if status != tc.sts {
				t.Fatalf("STS answered %d %s, want %d", status, body, tc.sts)
			}
			if tc.iam == 0 {
				return
			}
			var sts struct {
				AccessToken string `json:"access_token"`
			}
			if err := json.Unmarshal(body, &sts); err != nil {
				t.Fatal(err)
			}
			status, body = post(t, srv.URL+GCPIAMPath+"/v1/projects/-/serviceAccounts/"+sa+":generateAccessToken",
				sts.AccessToken, `{"scope":["https://www.googleapis.com/auth/cloud-platform"]}`)
			if status != tc.iam {
				t.Errorf("generateAccessToken answered %d %s, want %d", status, body, tc.iam)
			}
		})
	}
}

// post posts body (a form, or JSON with a bearer token) and returns the status and answer.
func post(t *testing.T, target, bearer, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, target, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, answer
}

// stsForm is the token exchange Google's libraries post for jwt, a token of audience aud.
func stsForm(aud, jwt string) url.Values {
	return url.Values{
		"grant_type":           {"urn:ietf:params:oauth:grant-type:token-exchange"},
		"audience":             {aud},
		"scope":                {"https://www.googleapis.com/auth/cloud-platform"},
		"requested_token_type": {"urn:ietf:params:oauth:token-type:access_token"},
		"subject_token_type":   {"urn:ietf:params:oauth:token-type:jwt"},
		"subject_token":        {jwt},
	}
}

// postSTS posts form to the token exchange at url and returns the answer's status.
func postSTS(t *testing.T, url string, form url.Values) int {
	t.Helper()
	resp, err := http.PostForm(url, form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// readRunClaims are the claims of a read run of stack a in space root, its caller of
// callerType, for aud.
func readRunClaims(aud, callerType string) map[string]any {
	return map[string]any{
		"sub": "space:root:stack:a:run_type:TRACKED:scope:read", "aud": aud,
		"spaceId": "root", "callerType": callerType, "callerId": "a", "scope": "read",
	}
}
