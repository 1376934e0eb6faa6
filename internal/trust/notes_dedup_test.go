package trust

import (
	"testing"

	"github.com/brokerhq/broker/internal/runs"
)

// azureSharedApp is prod's stack p attached for write to an Entra application, and dev's stack
// d attached for read to the same application through an integration of dev (which prod may
// not use, nor dev prod's).
const azureSharedApp = `issuer: https://broker.example.com
spaces: [{id: root}, {id: prod, parent: root}, {id: dev, parent: root}]
stacks: [{id: p, space: prod}, {id: d, space: dev}]
integrations:
  - id: a
    space: prod
    azure: {tenant_id: 00000000-0000-0000-0000-000000000001,
            client_id: 00000000-0000-0000-0000-000000000002}
  - id: x
    space: dev
    azure: {tenant_id: 00000000-0000-0000-0000-000000000001,
            client_id: 00000000-0000-0000-0000-000000000002}
attachments: [{stack: p, integration: a, write: true}, {stack: d, integration: x, read: true}]
`

// TestAzureLeavesNothingOut checks that an Azure trust notes nothing as left out: Entra holds
// each federated credential of an application as an object of its own, so installing the
// credentials printed for one stack replaces none of another subtree's on the same application.
func TestAzureLeavesNothingOut(t *testing.T) {
	cfg := parseConfig(t, azureSharedApp)
	_, notes, err := RenderNotes(cfg, Request{Provider: "azure", Stack: "p", Scope: runs.Write})
	if err != nil {
		t.Fatal(err)
	}
	if len(notes) > 0 {
		t.Errorf("azure trust of p reports %q as left out; Entra credentials are additive, "+
			"installing p's removes nothing", notes)
	}
}

// TestReadBesideWriteNamesEachPairOnce checks that the read-beside-write note names each (stack,
// scope, integration) pair once, also that of a stack attached to the integration both directly
// and through an autoattach label.
func TestReadBesideWriteNamesEachPairOnce(t *testing.T) {
	cfg := parseConfig(t, `issuer: https://broker.example.com
spaces: [{id: root}, {id: prod, parent: root, inherit: true}]
stacks: [{id: s, space: prod, labels: [l]}]
integrations:
  - id: a
    space: root
    aws: {role_arn: "arn:aws:iam::123456789012:role/r"}
    autoattach: [{label: l, read: true, write: true}]
attachments: [{stack: s, integration: a, read: true}]
`)
	got, err := ReadBesideWrite(cfg, Request{Provider: "aws", Stack: "s", Scope: runs.Write})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Errorf("read-beside-write note names %q, want the pair s (read) through a once", got)
	}
}

// TestLeftOutNotedOnce checks that RenderNotes notes a pair left out once, also that of another
// subtree's stack attached both directly and through an autoattach label to an integration
// naming the printed role.
func TestLeftOutNotedOnce(t *testing.T) {
	cfg := parseConfig(t, `issuer: https://broker.example.com
spaces: [{id: root}, {id: prod, parent: root}, {id: dev, parent: root}]
stacks: [{id: p, space: prod}, {id: d, space: dev, labels: [l]}]
integrations:
  - {id: a, space: prod, aws: {role_arn: "arn:aws:iam::123456789012:role/r"}}
  - id: x
    space: dev
    aws: {role_arn: "arn:aws:iam::123456789012:role/r"}
    autoattach: [{label: l, read: true}]
attachments: [{stack: p, integration: a, write: true}, {stack: d, integration: x, read: true}]
`)
	_, notes, err := RenderNotes(cfg, Request{Provider: "aws", Stack: "p", Scope: runs.Write})
	if err != nil {
		t.Fatal(err)
	}
	if len(notes) != 1 {
		t.Errorf("notes %q, want d's read pair noted once", notes)
	}
}
