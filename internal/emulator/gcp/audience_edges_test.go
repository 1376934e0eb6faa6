package gcpemu

import (
	"net/http"
	"testing"

	"github.com/brokerhq/broker/internal/testutil/oidctest"
)

// TestDefaultAudienceNeedsFullResourceName pins that, with no allowed audiences
// configured, a subject token whose aud is the provider's bare resource name (without the
// //iam.googleapis.com/ or https://iam.googleapis.com/ prefix) or another host's form of it is
// refused with invalid_grant: only the two full resource name forms are Google's defaults.
// Guards against: default audiences also holding the bare name, config.go:Provider.audiences
func TestDefaultAudienceNeedsFullResourceName(t *testing.T) {
	f := newFixture(t)
	for _, aud := range []string{testProvider, "//iam.example.com/" + testProvider, "http://iam.googleapis.com/" + testProvider} {
		c := claims("read")
		c["aud"] = aud
		status, body := f.postSTS(t, stsForm(f.iss.Sign(t, oidctest.Token{Claims: c})))
		if status != http.StatusBadRequest || body["error"] != "invalid_grant" {
			t.Errorf("aud %q: got %d %v, want 400 invalid_grant", aud, status, body)
		}
	}
}
