package azureemu

import (
	"testing"

	"github.com/brokerhq/broker/internal/testutil/oidctest"
)

// TestIssuerSubjectAndAudienceMatchOneCredential: Entra takes an assertion only when one
// federated credential has its issuer, its subject and its audience. The write subject with
// the audience only the read credential accepts matches no credential: a read credential's
// audience must not open the write credential's subject.
func TestIssuerSubjectAndAudienceMatchOneCredential(t *testing.T) {
	iss := oidctest.Start(t)
	const readSub = "space:root:stack:vpc:run_type:TRACKED:scope:read"
	const writeAud = "api://write-only"
	emu := New(Config{Host: "https://login.example.test", Apps: []App{{TenantID: tenantID, ClientID: clientID, Federated: []FederatedCredential{
		{Issuer: iss.URL, Subject: subject, Audiences: []string{writeAud}},
		{Issuer: iss.URL, Subject: readSub},
	}}}})
	f := &fixture{iss: iss, emu: emu}
	cases := []struct {
		name, sub, aud string
		status         int
	}{
		{"write subject, its credential's audience", subject, writeAud, 200},
		{"read subject, its credential's audience", readSub, DefaultAudience, 200},
		{"write subject, the read credential's audience", subject, DefaultAudience, 400},
		{"read subject, the write credential's audience", readSub, writeAud, 400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec, body := f.post(t, tenantID, goodForm(f.assertion(t, oidctest.Token{Claims: map[string]any{"sub": tc.sub, "aud": tc.aud}})))
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d: %v", rec.Code, tc.status, body["error_description"])
			}
			if tc.status == 400 {
				checkRefusal(t, body, wantRefusal{oauthErr: "invalid_request", code: 70021,
					inMessage: "Assertion Subject: '" + tc.sub + "'. Assertion Audience: '" + tc.aud + "'."})
			}
		})
	}
}
