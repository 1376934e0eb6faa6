package gcpemu

import (
	"net/http"
	"testing"

	"github.com/brokerhq/broker/internal/testutil/oidctest"
)

// The STS emulator refuses a subject token without sub, absent or null: Google requires iss,
// iat, exp, sub and aud in every OIDC subject token, also when google.subject is mapped from
// another claim, as `broker trust gcp` prints it (assertion.runId) when a sub would be over
// 127 bytes.
func TestSTSRefusesTokenWithoutSub(t *testing.T) {
	f := fixtureWith(t, Provider{Name: testProvider, AttributeMapping: map[string]string{
		"google.subject": "assertion.runId",
	}}, nil)
	const runID = "01JABCDEFGHJKMNPQRSTVWXYZ0"
	noSub := map[string]any{"aud": testAudience, "runId": runID}
	nullSub := map[string]any{"aud": testAudience, "runId": runID, "sub": nil}
	for name, c := range map[string]map[string]any{"absent": noSub, "null": nullSub} {
		t.Run(name, func(t *testing.T) {
			status, _ := f.postSTS(t, stsForm(f.iss.Sign(t, oidctest.Token{Claims: c})))
			if status == http.StatusOK {
				t.Errorf("STS emulator took a subject token without sub (Google requires it): %d",
					status)
			}
		})
	}
}
