package trust

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/runs"
)

// webStatementOf is a web-identity statement of issuer host broker.example.com admitting
// subs, the list itself (not a copy) under the sub key.
func webStatementOf(subs []string) AWSStatement {
	return AWSStatement{
		Effect:    "Allow",
		Principal: map[string]string{"Federated": "arn:aws:iam::1:oidc-provider/b.example"},
		Action:    []string{"sts:AssumeRoleWithWebIdentity"},
		Condition: map[string]map[string]any{"StringEquals": {
			"broker.example.com:aud": "sts.amazonaws.com",
			"broker.example.com:sub": subs,
		}},
	}
}

// TestMergeKeepsFirstList: merging a statement into one already in the policy adds its
// subjects to a new list, never into the first statement's own list (a target's subjects),
// even when that list has room to grow in place.
// Guards against: mergeAWSStatement appending to have's list without slices.Clone
func TestMergeKeepsFirstList(t *testing.T) {
	first := make([]string, 1, 4)
	first[0] = "space:p:stack:a:scope:read"
	const key = "broker.example.com:sub"
	merged := mergeAWSStatement([]AWSStatement{webStatementOf(first)},
		webStatementOf([]string{"space:p:stack:b:scope:read"}), key)
	if len(merged) != 1 {
		t.Fatalf("%d statements, want the two merged into one", len(merged))
	}
	got := merged[0].Condition["StringEquals"][key].([]string)
	want := []string{"space:p:stack:a:scope:read", "space:p:stack:b:scope:read"}
	if !slices.Equal(got, want) {
		t.Fatalf("merged subjects %q, want %q", got, want)
	}
	if spare := first[:2][1]; spare != "" {
		t.Errorf("merging wrote %q into the first statement's own list", spare)
	}
}

// azureTwoAppsYAML is stacks s0..s9 (read and write) on Entra application ...02 and t0..t9
// (read and write) on application ...03: 20 federated credentials in each application.
func azureTwoAppsYAML() string {
	var stacks, atts strings.Builder
	for i := range 10 {
		fmt.Fprintf(&stacks, "{id: s%d, space: root}, {id: t%d, space: root}, ", i, i)
		fmt.Fprintf(&atts, "  - {stack: s%d, integration: az1, read: true, write: true}\n", i)
		fmt.Fprintf(&atts, "  - {stack: t%d, integration: az2, read: true, write: true}\n", i)
	}
	const tenant = "tenant_id: 00000000-0000-0000-0000-000000000001"
	const app = ", client_id: 00000000-0000-0000-0000-00000000000"
	return `issuer: https://broker.example.com
spaces: [{id: root, subject_template: "space:{spaceId}:stack:{callerId}:scope:{scope}"}]
stacks: [` + strings.TrimSuffix(stacks.String(), ", ") + `]
integrations:
  - {id: az1, space: root, azure: {` + tenant + app + `2}}
  - {id: az2, space: root, azure: {` + tenant + app + `3}}
attachments:
` + atts.String()
}

// TestAzureAppsCountedApart: Entra's limit of 20 federated credentials holds per
// application, so two applications of 20 credentials each both print.
// Guards against: the Azure sharing predicate counting every Azure integration as one application
func TestAzureAppsCountedApart(t *testing.T) {
	cfg := parseConfig(t, azureTwoAppsYAML())
	for _, stack := range []string{"s0", "t9"} {
		req := Request{Provider: "azure", Stack: stack, Scope: runs.Write}
		if _, err := Render(cfg, req); err != nil {
			t.Errorf("%s: %v", stack, err)
		}
	}
}
