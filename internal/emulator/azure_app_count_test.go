package emulator

import (
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/runs"
	"github.com/brokerhq/broker/internal/trust"
)

// azureCredentialsOf counts the federated credentials set emulates for the Entra application
// with client id, over every tenant spelling it is emulated under.
func azureCredentialsOf(set *Set, client string) int {
	n := 0
	for _, app := range set.azureConfig.Apps {
		if strings.EqualFold(app.ClientID, client) {
			n += len(app.Federated)
		}
	}
	return n
}

// TestAzureAttachedTwiceCountsOnce checks that a stack attached to an Entra application
// both directly and by an autoattach label needs its federated credentials once: broker trust
// prints each distinct subject once (14 for two stacks at read and write), so the emulator
// must trust the application, not drop it as needing more than Entra's 20.
func TestAzureAttachedTwiceCountsOnce(t *testing.T) {
	set := fromYAML(t, azureTwiceYAML)
	cfg, err := config.Parse("t.yaml", []byte(azureTwiceYAML))
	if err != nil {
		t.Fatal(err)
	}
	req := trust.Request{Provider: "azure", Stack: "s1", Scope: runs.Write}
	if _, err := trust.Render(cfg, req); err != nil {
		t.Fatalf("broker trust azure refuses: %v", err)
	}
	if n := azureCredentialsOf(set, "aaaaaaaa-0000-0000-0000-000000000002"); n != 14 {
		t.Errorf("the application broker trust prints 14 credentials for is emulated with %d "+
			"(notes %q)", n, set.Notes)
	}
}

const azureTwiceYAML = `issuer: https://broker.example.com
spaces: [{id: root}, {id: prod, parent: root, inherit: true}]
stacks:
  - {id: s1, space: prod, labels: [platform]}
  - {id: s2, space: prod, labels: [platform]}
integrations:
  - id: az
    space: prod
    azure:
      tenant_id: 00000000-0000-0000-0000-000000000001
      client_id: aaaaaaaa-0000-0000-0000-000000000002
    autoattach: [{label: platform, read: true, write: true}]
attachments:
  - {stack: s1, integration: az, read: true, write: true}
  - {stack: s2, integration: az, read: true, write: true}
`
