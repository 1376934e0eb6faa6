package trust

import (
	"errors"
	"testing"

	"github.com/brokerhq/broker/internal/runs"
)

// TestAWSTrustRefusesIssuerWithPort: IAM's OIDC provider URL holds no port, so an issuer
// that names one on a host other than loopback can never be registered, and no token of it can
// assume any role. `broker trust aws` must say so (an error) rather than print a trust policy
// naming an oidc-provider ARN that IAM cannot hold; a loopback issuer keeps its port for local
// trials, as the emulator does.
func TestAWSTrustRefusesIssuerWithPort(t *testing.T) {
	for _, tc := range []struct {
		issuer  string
		wantErr bool
	}{
		{"https://broker.example.com:8443", true},
		{"https://broker.example.com:443", true},
		{"https://broker.example.com", false},
		{"http://127.0.0.1:8080", false},
	} {
		t.Run(tc.issuer, func(t *testing.T) {
			cfg := exampleConfig(t)
			cfg.Issuer = tc.issuer
			doc, err := Render(cfg, Request{Provider: "aws", Stack: "vpc-prod", Scope: runs.Write})
			if (err != nil) != tc.wantErr || err != nil && !errors.Is(err, ErrIssuerPort) {
				t.Errorf("issuer %s: err = %v, want error %v; printed %+v",
					tc.issuer, err, tc.wantErr, doc)
			}
		})
	}
}
