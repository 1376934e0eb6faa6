package trust

import (
	"slices"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/runs"
)

// gcpStack names the broker and the workload identity provider of gcpStackConfig.
type gcpStack struct {
	issuer, pool, provider string
}

// gcpStackConfig is stack a of root attached for read and write to a GCP integration whose
// provider is g.provider in g.pool, for a broker whose issuer is g.issuer.
func gcpStackConfig(g gcpStack) string {
	return `issuer: ` + g.issuer + `
spaces: [{id: root}]
stacks: [{id: a, space: root}]
integrations:
  - id: g
    space: root
    gcp:
      service_account: sa@p.iam.gserviceaccount.com
      workload_identity_provider: projects/1/locations/global/workloadIdentityPools/` +
		g.pool + `/providers/` + g.provider + `
attachments:
  - {stack: a, integration: g, read: true, write: true}
`
}

// checkPoolMember fails t unless the binding printed for stack a (read) of a provider in
// pool names that pool in its member.
func checkPoolMember(t *testing.T, pool string) {
	t.Helper()
	cfg := parseConfig(t, gcpStackConfig(gcpStack{issuer: "https://broker.example.com", pool: pool, provider: "prov"}))
	doc, err := Render(cfg, Request{Provider: "gcp", Stack: "a", Scope: runs.Read})
	if err != nil {
		t.Fatal(err)
	}
	want := "principalSet://iam.googleapis.com/projects/1/locations/global/" +
		"workloadIdentityPools/" + pool + "/attribute.space_stack_scope/prov/root/a@read"
	if got := doc.(GCPTrust).Binding.Member; got != want {
		t.Errorf("member %q, want %q", got, want)
	}
}

// TestGCPBindingPool: the binding's member names the provider's own pool, also a pool whose
// name begins with "providers" or is "providers" (configuration accepts it, as Google does).
// Guards against: the pool cut at "/providers" rather than "/providers/"
// Guards against: the pool cut at the first "/providers/" rather than the last
func TestGCPBindingPool(t *testing.T) {
	for _, pool := range []string{"pool", "providers-x", "providers"} {
		t.Run(pool, func(t *testing.T) { checkPoolMember(t, pool) })
	}
}

// TestGCPProviderSpacesListed: a provider shared by stacks of two spaces lists both
// spaces in Spaces, the ones its attribute condition admits, for programs that cannot read
// CEL.
// Guards against: GCPProvider.Spaces holding only the first space
func TestGCPProviderSpacesListed(t *testing.T) {
	doc, err := Render(sharedConfig(t), Request{Provider: "gcp", Stack: "a", Scope: runs.Read})
	if err != nil {
		t.Fatal(err)
	}
	p := doc.(GCPTrust).Provider
	if want := []string{"team", "ops"}; !slices.Equal(p.Spaces, want) {
		t.Errorf("spaces %q, want %q", p.Spaces, want)
	}
	for _, s := range p.Spaces {
		if !strings.Contains(p.AttributeCondition, `"`+s+`"`) {
			t.Errorf("space %q listed but not in the condition %q", s, p.AttributeCondition)
		}
	}
}
