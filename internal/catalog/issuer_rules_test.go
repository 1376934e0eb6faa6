package catalog_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/config"
)

// TestIssuerRulesCoverAPIObjects: the rules on objects that read the issuer hold for objects
// put through the API as for the file's. An assume-role integration's ExternalId begins with the
// issuer's host, where STS takes no brackets, so under an IPv6-literal issuer one put through
// the API is refused (on the old code it was stored, and every exchange failed); under a host
// name it is stored, and a web-identity one is stored under either.
func TestIssuerRulesCoverAPIObjects(t *testing.T) {
	ctx := context.Background()
	assumeRole := func(id string) catalog.Mutation {
		in := awsIn(id, "prod")
		in.AWS.Mode = config.AWSModeAssumeRole
		return catalog.Mutation{Ref: catalog.Ref{Kind: catalog.KindIntegration, ID: id}, Object: in}
	}
	for _, tc := range []struct {
		issuer  string
		mu      catalog.Mutation
		refused bool
	}{
		{"https://[2001:db8::1]:8443", assumeRole("ar"), true},
		{"https://broker.example.com", assumeRole("ar"), false},
		{"https://[2001:db8::1]:8443", catalog.Mutation{Ref: catalog.Ref{Kind: catalog.KindIntegration, ID: "wi"}, Object: awsIn("wi", "prod")}, false},
	} {
		m, err := catalog.NewManager(ctx, catalog.ManagerConfig{Store: catalog.NewMemory(), File: file(), Issuer: tc.issuer})
		if err != nil {
			t.Fatal(err)
		}
		_, err = m.Apply(ctx, tc.mu)
		var ce *catalog.ChangeError
		refused := errors.As(err, &ce) && errors.Is(err, catalog.ErrInvalid) && strings.Contains(err.Error(), "assume-role needs an issuer named by a host name")
		if refused != tc.refused || (!tc.refused && err != nil) {
			t.Errorf("issuer %s, integration %s: %v, want refused %v", tc.issuer, tc.mu.Ref.ID, err, tc.refused)
		}
	}
}
