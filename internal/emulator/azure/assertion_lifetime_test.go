package azureemu

import (
	"net/http"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/testutil/oidctest"
)

// TestAssertionLifetimeBoundedByIat: a federated assertion lives at most one day and one hour
// from its iat, and one without iat counts as issued at 0: longer, Entra answers AADSTS70023 as
// a bad request (400 invalid_request, not a failed client authentication), so a broker whose
// tokens live longer does not pass against the emulator. A day is taken.
func TestAssertionLifetimeBoundedByIat(t *testing.T) {
	f := newFixture(t)
	cases := []struct {
		name string
		tok  oidctest.Token
	}{
		{"no iat", oidctest.Token{Omit: []string{"iat"}}},
		{"lives 48h", oidctest.Token{ExpiresIn: 48 * time.Hour}},
		{"lives 25h and a minute", oidctest.Token{ExpiresIn: 25*time.Hour + time.Minute}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec, body := f.post(t, tenantID, goodForm(f.assertion(t, c.tok)))
			codes, _ := body["error_codes"].([]any)
			if rec.Code != http.StatusBadRequest || body["error"] != "invalid_request" ||
				len(codes) != 1 || codes[0] != float64(70023) {
				t.Fatalf("status %d, error %v, error_codes %v; want 400 invalid_request AADSTS70023",
					rec.Code, body["error"], codes)
			}
		})
	}
	// One day is within Entra's bound and still taken.
	day := f.assertion(t, oidctest.Token{ExpiresIn: 24 * time.Hour})
	rec, body := f.post(t, tenantID, goodForm(day))
	if rec.Code != http.StatusOK {
		t.Fatalf("a 24h assertion: status %d, error %v; want 200", rec.Code, body["error"])
	}
}
