package emulator

import (
	"slices"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/testutil/contract"
)

func TestFromConfigTrustsExactlyTheAttachments(t *testing.T) {
	cfg, err := config.Parse("broker.example.yaml", contract.Example(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Attachments = append(cfg.Attachments, config.Attachment{Stack: "vpc-prod", Integration: "azure-prod", Write: true})
	set, err := FromConfig(cfg, "https://127.0.0.1:8082")
	if err != nil {
		t.Fatal(err)
	}
	roles := map[string][]string{}
	for _, r := range set.awsConfig.Roles {
		roles[r.ARN] = append(r.Trust.Subjects, r.Trust.Issuer, strings.Join(r.Trust.Audiences, ","))
	}
	read := roles["arn:aws:iam::123456789012:role/broker-read"]
	write := roles["arn:aws:iam::123456789012:role/broker-write"]
	if !slices.Contains(read, "space:prod:stack:vpc-prod:run_type:PROPOSED:scope:read") || slices.Contains(read, "space:prod:stack:vpc-prod:run_type:TRACKED:scope:write") {
		t.Errorf("read role trusts %v", read)
	}
	if !slices.Contains(write, "space:prod:stack:vpc-prod:run_type:TRACKED:scope:write") || slices.Contains(write, "space:prod:stack:vpc-prod:run_type:PROPOSED:scope:write") {
		t.Errorf("write role trusts %v", write)
	}
	if !slices.Contains(write, "https://broker.example.com") || !slices.Contains(write, "sts.amazonaws.com") {
		t.Errorf("write role issuer/audience %v", write)
	}
	var members []string
	for _, sa := range set.gcpConfig.ServiceAccounts {
		members = append(members, sa.Members...)
	}
	if !slices.Contains(members, "principal://iam.googleapis.com/projects/123456/locations/global/workloadIdentityPools/broker/subject/space:prod:stack:vpc-prod:run_type:TASK:scope:write") {
		t.Errorf("gcp members %v", members)
	}
	if apps := set.azureConfig.Apps; len(apps) != 1 || len(apps[0].Federated) != 3 || apps[0].Federated[0].Issuer != "https://broker.example.com" {
		t.Errorf("azure apps %+v: want one app trusting the 3 write subjects", apps)
	}
	vault := set.vaultConfig.Mounts
	if len(vault) != 1 || vault[0].Path != "jwt" || vault[0].BoundIssuer != "https://broker.example.com" || len(vault[0].Roles) != 1 {
		t.Fatalf("vault mounts %+v: want jwt trusting broker.example.com with one role", vault)
	}
	if r := vault[0].Roles[0]; r.Name != "vpc-prod" || !slices.Equal(r.BoundAudiences, []string{"vault"}) ||
		!slices.Equal(r.BoundClaims["callerId"], []string{"vpc-prod"}) || !slices.Equal(r.BoundClaims["scope"], []string{"read", "write"}) {
		t.Errorf("vault role %+v", r)
	}
}
