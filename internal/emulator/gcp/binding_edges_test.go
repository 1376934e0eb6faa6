package gcpemu

import (
	"net/http"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/testutil/oidctest"
)

// fixtureWith is an emulator serving the one provider p (its Issuer set to a fresh test
// issuer) and the service accounts sas, on the real clock.
func fixtureWith(t *testing.T, p Provider, sas []ServiceAccount) *fixture {
	t.Helper()
	iss := oidctest.Start(t)
	p.Issuer = iss.URL
	emu := New(Config{Providers: []Provider{p}, ServiceAccounts: sas})
	return &fixture{emu: emu, iss: iss, srv: newServer(t, emu), clock: &clock{}}
}

// TestUnevaluableMappingRefusesExchange: when a custom attribute's concatenation names a
// claim the token lacks, the exchange is refused (400 invalid_request) rather than the
// attribute being left out of the federated identity.
// Guards against: evaluation error skipped (continue) in config.go:mapAttributes
func TestUnevaluableMappingRefusesExchange(t *testing.T) {
	f := fixtureWith(t, Provider{Name: testProvider, AttributeMapping: map[string]string{
		"google.subject": "assertion.sub", "attribute.path": `assertion.spaceId + "/" + assertion.stack`,
	}}, nil)
	token := f.iss.Sign(t, oidctest.Token{Claims: map[string]any{"sub": readSub, "aud": testAudience, "spaceId": "root"}})
	status, body := f.postSTS(t, stsForm(token))
	if status != http.StatusBadRequest || body["error"] != "invalid_request" ||
		!strings.Contains(body["error_description"].(string), "attribute mapping could not be evaluated") {
		t.Fatalf("token lacking a claim of a concatenated mapping: %d %v, want 400 invalid_request", status, body)
	}
	token = f.iss.Sign(t, oidctest.Token{Claims: map[string]any{"sub": readSub, "aud": testAudience, "spaceId": "root", "stack": "vpc"}})
	if status, body := f.postSTS(t, stsForm(token)); status != http.StatusOK {
		t.Fatalf("token holding every claim: %d %v", status, body)
	}
}

// TestImpersonationBindingForms: roles/iam.workloadIdentityUser granted to the whole
// pool (principalSet://iam.googleapis.com/<pool>/*) lets any identity of that pool impersonate,
// but no identity of another pool; and google.subject is matched only through the
// principal://.../subject/<subject> form, never as a principalSet attribute.
// Guards against: pool-wide principalSet dropped in config.go:principals
// Guards against: every mapped attribute (google.*) offered as principalSet in config.go:principals
func TestImpersonationBindingForms(t *testing.T) {
	const otherPool = "projects/123456789/locations/global/workloadIdentityPools/other"
	f := fixtureWith(t, Provider{Name: testProvider}, []ServiceAccount{
		{Email: readerSA, Members: []string{"principalSet://iam.googleapis.com/" + testPool + "/*"}},
		{Email: writerSA, Members: []string{"principalSet://iam.googleapis.com/" + otherPool + "/*"}},
		{Email: nobodySA, Members: []string{"principalSet://iam.googleapis.com/" + testPool + "/google.subject/" + readSub}},
	})
	token := f.iss.Sign(t, oidctest.Token{Claims: map[string]any{"sub": readSub, "aud": testAudience}})
	status, body := f.postSTS(t, stsForm(token))
	if status != http.StatusOK {
		t.Fatalf("STS: %d %v", status, body)
	}
	fed := body["access_token"].(string)
	for _, tc := range []struct {
		sa   string
		want int
	}{
		{readerSA, http.StatusOK},
		{writerSA, http.StatusForbidden},
		{nobodySA, http.StatusForbidden},
	} {
		if status, out := f.postIAM(t, tc.sa, fed, map[string]any{"scope": []string{cloudScope}}); status != tc.want {
			t.Errorf("%s: %d %v, want %d", tc.sa, status, out, tc.want)
		}
	}
}
