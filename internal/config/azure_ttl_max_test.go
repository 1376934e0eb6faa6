package config

import (
	"testing"
	"time"
)

// TestAzureTokenLifetimeWithinEntraBound: with an Azure integration, a fresh run's token (which
// lives tokens.ttl, or less when runs.ttl ends it sooner) lives at most the 25 hours Entra ID
// takes of a federated assertion, or every Azure exchange of a fresh run is refused; either
// lifetime within the bound, or no Azure integration, is taken. The API's check of an
// integration applies the same rule.
func TestAzureTokenLifetimeWithinEntraBound(t *testing.T) {
	const azure = "integrations:\n  - id: az\n    space: root\n    azure: {tenant_id: " +
		"\"00000000-0000-0000-0000-000000000001\", client_id: \"00000000-0000-0000-0000-000000000002\"}\n"
	const vault = "integrations:\n  - id: v\n    space: root\n" +
		"    vault: {address: \"https://vault.example.com\", role: r}\n"
	const retain = "keys: {rotation: {retain: 48h}}\n"
	const long = retain + "tokens: {ttl: 26h}\nruns: {ttl: 26h}\n"
	checkEdges(t, []edgeCase{
		{"tokens and runs of 26h with azure", long + azure, "tokens.ttl"},
		{"tokens of 25h with azure", retain + "tokens: {ttl: 25h}\nruns: {ttl: 26h}\n" + azure, ""},
		{"runs of 3h with azure", retain + "tokens: {ttl: 26h}\nruns: {ttl: 3h}\n" + azure, ""},
		{"tokens and runs of 26h without azure", long + vault, ""},
	})
	day, tooLong := 24*time.Hour, 26*time.Hour
	az := Integration{ID: "a", Azure: &Azure{TenantID: "t", ClientID: "c"}}
	for _, c := range []struct {
		l       Lifetimes
		refused bool
	}{
		{Lifetimes{Token: tooLong, Run: tooLong}, true},
		{Lifetimes{Token: tooLong, Run: day}, false},
		{Lifetimes{Token: day, Run: tooLong}, false},
	} {
		err := CheckIntegrationLifetimes(az, "integrations[0]", c.l)
		if got := problemAt(err, "integrations[0].azure") != nil; got != c.refused {
			t.Errorf("CheckIntegrationLifetimes under %+v = %v, want refused %v", c.l, err, c.refused)
		}
	}
}
