package awsemu

import (
	"net/http"
	"testing"

	"github.com/brokerhq/broker/internal/testutil/oidctest"
)

// TestWebIdentityTokenWithoutSubRefused: STS takes a web identity token only when it
// carries a sub claim; one without sub is refused with 400 InvalidIdentityToken "Missing a
// required claim: sub" before any trust condition is applied, so even a role whose trust
// policy puts no condition on sub issues no credentials for it.
func TestWebIdentityTokenWithoutSubRefused(t *testing.T) {
	for _, tc := range []struct {
		name   string
		claims map[string]any
	}{
		{"absent", map[string]any{"aud": "sts.amazonaws.com"}},
		{"null", map[string]any{"aud": "sts.amazonaws.com", "sub": nil}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := fixtureWith(t, []Role{{ARN: readRole,
				Trust: Trust{Issuer: freshIssuer, Audiences: []string{"sts.amazonaws.com"}}}})
			status, body := f.post(t, webIdentity(f.iss.Sign(t, oidctest.Token{Claims: tc.claims})))
			expectAnswer(t, status, body, http.StatusBadRequest, "InvalidIdentityToken",
				"Missing a required claim: sub")
		})
	}
}
