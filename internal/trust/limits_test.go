package trust

import (
	"strings"
	"testing"

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
