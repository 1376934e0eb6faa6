package catalog_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/config"
)

// TestAzureIntegrationNeedsTheLifetimesBrokerRunsWith: an Azure integration put through the API
// while broker runs with a tokens.ttl or runs.ttl under a minute is refused at its azure field,
// naming the lifetime, since every exchange would be refused (the ARM_OIDC_TOKEN it hands over
// lives that long at most and must still have 30s left when it arrives); under lifetimes of a
// minute or more it is stored, and an integration of another cloud is stored under any.
// On the old code the API stored it and every exchange failed.
func TestAzureIntegrationNeedsTheLifetimesBrokerRunsWith(t *testing.T) {
	ctx := context.Background()
	azure := config.Integration{ID: "az", Space: "prod", Azure: &config.Azure{TenantID: tenantGUID, ClientID: tenantGUID}}
	for _, tc := range []struct {
		name       string
		token, run time.Duration
		in         config.Integration
		refusedFor string // the lifetime the refusal names; "" for none
	}{
		{"short tokens", 30 * time.Second, time.Hour, azure, "tokens.ttl"},
		{"short runs", time.Hour, 59 * time.Second, azure, "runs.ttl"},
		{"a minute each", time.Minute, time.Minute, azure, ""},
		{"not set", 0, 0, azure, ""},
		{"aws under short lifetimes", 30 * time.Second, 30 * time.Second, awsIn("aws", "prod"), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := catalog.NewManager(ctx, catalog.ManagerConfig{
				Store: catalog.NewMemory(), File: file(), TokenTTL: tc.token, RunTTL: tc.run,
			})
			if err != nil {
				t.Fatal(err)
			}
			_, err = m.Apply(ctx, catalog.Mutation{Ref: catalog.Ref{Kind: catalog.KindIntegration, ID: tc.in.ID}, Object: tc.in})
			if tc.refusedFor == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var ce *catalog.ChangeError
			if !errors.As(err, &ce) || !errors.Is(ce.Kind, catalog.ErrInvalid) || ce.Field != "azure" {
				t.Fatalf("%v (%+v), want invalid at azure", err, ce)
			}
			if !strings.Contains(err.Error(), tc.refusedFor) {
				t.Errorf("%q does not name %s", err, tc.refusedFor)
			}
			if _, ok := m.Live().Load().Integration(tc.in.ID); ok {
				t.Error("the refused integration is in force")
			}
		})
	}
}
