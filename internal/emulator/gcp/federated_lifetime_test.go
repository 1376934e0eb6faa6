package gcpemu

import (
	"net/http"
	"testing"
	"time"
)

// TestFederatedTokenEndsWithItsSubjectToken: STS never hands out a federated token that
// outlives the credential it was exchanged for: expires_in is at most the subject token's
// remaining lifetime, and generateAccessToken refuses (401) the federated token once the
// subject token's exp has passed (a 5-minute OIDC token gives a 5-minute federated token).
func TestFederatedTokenEndsWithItsSubjectToken(t *testing.T) {
	f, c := stillFixture(t)
	now := c.Now().Unix()
	const left = 120
	times := map[string]any{"iat": now, "exp": now + left}
	status, body := f.postSTS(t, stsForm(signedSubject(t, f, times)))
	if status != http.StatusOK {
		t.Fatalf("STS: %d %v", status, body)
	}
	if in, _ := body["expires_in"].(float64); in <= 0 || in > left {
		t.Errorf("expires_in %v for a subject token with %d s left, want 1..%d", in, left, left)
	}
	fed, _ := body["access_token"].(string)
	c.Advance(left * time.Second)
	status, body = f.postIAM(t, writerSA, fed, map[string]any{"scope": []string{cloudScope}})
	if status != http.StatusUnauthorized {
		t.Errorf("federated token at its subject token's exp: %d %v, want 401", status, body)
	}
}
