package gcpemu

import (
	"net/http"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/testutil/oidctest"
)

// TestFederatedTokenNeedsItsPrefix pins that a federated token has one spelling: the
// same sealed content without its "gcpemu.sts." prefix is not a credential at
// generateAccessToken (401 UNAUTHENTICATED).
// Guards against: prefix check dropped in tokens.go:open
func TestFederatedTokenNeedsItsPrefix(t *testing.T) {
	f := newFixture(t)
	read := f.federatedToken(t, "read")
	bare, ok := strings.CutPrefix(read, federatedTokens.prefix)
	if !ok {
		t.Fatalf("federated token lacks the %q prefix", federatedTokens.prefix)
	}
	status, body := f.postIAM(t, readerSA, bare, map[string]any{"scope": []string{cloudScope}})
	if rs, _ := rpcErr(body); status != http.StatusUnauthorized || rs != "UNAUTHENTICATED" {
		t.Fatalf("status %d %v, want 401 UNAUTHENTICATED", status, body)
	}
}

// TestAudienceSegmentsHoldNoSlash pins that each segment of the provider resource name in
// the audience parameter is one path segment: a project segment holding a "/" makes a
// malformed audience (400 invalid_request), not an unknown provider (invalid_target).
// Guards against: provider name pattern segments widened to .+ in config.go
func TestAudienceSegmentsHoldNoSlash(t *testing.T) {
	f := newFixture(t)
	form := stsForm(f.iss.Sign(t, oidctest.Token{Claims: claims("read")}))
	form.Set("audience", "//iam.googleapis.com/projects/123/x/locations/global/workloadIdentityPools/broker/providers/broker-oidc")
	status, body := f.postSTS(t, form)
	desc, _ := body["error_description"].(string)
	if status != http.StatusBadRequest || body["error"] != "invalid_request" || !strings.Contains(desc, `Invalid value for "audience"`) {
		t.Fatalf("status %d %v, want 400 invalid_request about the audience", status, body)
	}
}

// TestTokenAnswersAreNotCached pins that the answers carrying tokens, the STS exchange's
// and generateAccessToken's, say Cache-Control: no-store.
// Guards against: Cache-Control header dropped in errors.go:writeJSON
func TestTokenAnswersAreNotCached(t *testing.T) {
	f := newFixture(t)
	resp, err := http.PostForm(f.srv.URL+"/v1/token", stsForm(f.iss.Sign(t, oidctest.Token{Claims: claims("read")})))
	if err != nil {
		t.Fatal(err)
	}
	if cc := resp.Header.Get("Cache-Control"); resp.StatusCode != http.StatusOK || !strings.Contains(cc, "no-store") {
		t.Errorf("STS: status %d Cache-Control %q, want 200 with no-store", resp.StatusCode, cc)
	}
	resp.Body.Close()
	read := f.federatedToken(t, "read")
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/v1/projects/-/serviceAccounts/"+readerSA+":generateAccessToken",
		strings.NewReader(`{"scope":["`+cloudScope+`"]}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+read)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if cc := resp.Header.Get("Cache-Control"); resp.StatusCode != http.StatusOK || !strings.Contains(cc, "no-store") {
		t.Errorf("IAM: status %d Cache-Control %q, want 200 with no-store", resp.StatusCode, cc)
	}
}
