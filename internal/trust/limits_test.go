package trust

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/claims"
	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/runs"
)

// The Federated principal is in the role's partition: GovCloud and China roles trust their own
// partition's OIDC provider.
func TestAWSPartitionOfFederatedPrincipal(t *testing.T) {
	cfg, err := config.Parse("t.yaml", []byte(`issuer: https://broker.example.com
spaces: [{id: root}]
stacks: [{id: a, space: root}]
integrations:
  - {id: aws-gov, space: root, aws: {role_arn: "arn:aws-us-gov:iam::123456789012:role/w"}}
attachments:
  - {stack: a, integration: aws-gov, write: true}
`))
	if err != nil {
		t.Fatal(err)
	}
	got := render(t, cfg, Request{Provider: "aws", Stack: "a", Scope: runs.Write})
	if !strings.Contains(got, `"Federated":"arn:aws-us-gov:iam::123456789012:oidc-provider/broker.example.com"`) {
		t.Errorf("Federated principal is not in the role's partition aws-us-gov:\n%s", got)
	}
}

// The google.subject length check counts each run id as minted (26 bytes), not as the "*" the
// trust subjects carry: a sub of 103..127 bytes with "*" is over 127 when minted, and then the
// run id is mapped instead.
func TestGCPSubjectLengthCountsMintedRunID(t *testing.T) {
	space := strings.Repeat("s", 30)
	stack := strings.Repeat("k", 60)
	cfg, err := config.Parse("t.yaml", []byte(fmt.Sprintf(`issuer: https://broker.example.com
spaces:
  - {id: root}
  - {id: %s, parent: root, inherit: true, subject_template: "space:{spaceId}:stack:{callerId}:run:{runId}:scope:{scope}"}
stacks: [{id: %s, space: %s}]
integrations:
  - {id: gcp, space: root, gcp: {workload_identity_provider: projects/1/locations/global/workloadIdentityPools/pool/providers/p, service_account: sa@p.iam.gserviceaccount.com}}
attachments:
  - {stack: %s, integration: gcp, write: true}
`, space, stack, space, stack)))
	if err != nil {
		t.Fatal(err)
	}
	got := render(t, cfg, Request{Provider: "gcp", Stack: stack, Scope: runs.Write})
	var doc GCPTrust
	if err := json.Unmarshal([]byte(got), &doc); err != nil {
		t.Fatal(err)
	}
	spaces, err := claims.NewSpaces(cfg)
	if err != nil {
		t.Fatal(err)
	}
	sub, _ := spaces.Subject(claims.Subject{SpaceID: space, CallerType: "stack", CallerID: stack,
		Run: runs.Run{ID: "01J0000000000000000000000A", RunType: runs.Tracked, Phase: runs.Applying, Scope: runs.Write}})
	if doc.Provider.AttributeMapping["google.subject"] == "assertion.sub" && len(sub) > gcpMaxSubject {
		t.Errorf("google.subject maps assertion.sub, but a minted sub is %d bytes (> %d), which Google STS refuses: %s",
			len(sub), gcpMaxSubject, sub)
	}
}

// Entra federated credentials take a subject of at most 600 characters: a longer one is refused
// with an error naming the stack, not printed.
func TestAzureSubjectOver600Refused(t *testing.T) {
	var b strings.Builder
	b.WriteString("issuer: https://broker.example.com\nspaces:\n  - {id: root}\n")
	parent := "root"
	var leaf string
	for i := 0; i < 10; i++ {
		id := fmt.Sprintf("%c%s", 'a'+i, strings.Repeat("x", 62))
		tmpl := ""
		if i == 9 {
			tmpl = `, subject_template: "deep:{spacePath}:stack:{callerId}:scope:{scope}"`
		}
		fmt.Fprintf(&b, "  - {id: %s, parent: %s, inherit: true%s}\n", id, parent, tmpl)
		parent, leaf = id, id
	}
	fmt.Fprintf(&b, `stacks: [{id: s, space: %s}]
integrations:
  - {id: az, space: root, azure: {tenant_id: 00000000-0000-0000-0000-000000000001, client_id: 00000000-0000-0000-0000-000000000002}}
attachments:
  - {stack: s, integration: az, write: true}
`, leaf)
	cfg, err := config.Parse("t.yaml", []byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := Render(cfg, Request{Provider: "azure", Stack: "s", Scope: runs.Write})
	if errors.Is(err, ErrSubjectTooLong) && strings.Contains(err.Error(), "stack s") {
		return
	}
	if err != nil {
		t.Fatalf("Render: %v, want ErrSubjectTooLong naming the stack", err)
	}
	for _, c := range doc.([]azureCredential) {
		if len(c.Subject) > 600 {
			t.Errorf("printed a federated credential subject of %d characters; Entra refuses subjects over 600", len(c.Subject))
			return
		}
	}
}
