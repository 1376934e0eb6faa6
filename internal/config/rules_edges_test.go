package config

import (
	"fmt"
	"strings"
	"testing"
)

// TestIDRuleRefusesUnderscore pins that an id, which reaches the sub claim as it is, may
// hold only lower case letters, digits and '-': an underscore is refused for every kind of
// object and for a label.
// Guards against: IDPattern allowing '_' (validate.go:IDPattern)
func TestIDRuleRefusesUnderscore(t *testing.T) {
	checkEdges(t, []edgeCase{
		{"space id with an underscore", "spaces:\n  - {id: team_a, parent: root}\n", "spaces[0].id"},
		{"stack id with an underscore", "stacks:\n  - {id: vpc_prod, space: root}\n", "stacks[0].id"},
		{"stack label with an underscore", "stacks:\n  - {id: vpc, space: root, labels: [prod_eu]}\n", "stacks[0].labels[0]"},
		{"id with a hyphen inside", "stacks:\n  - {id: vpc-prod, space: root}\n", ""},
	})
}

// TestAzureTenantCannotClimb pins that an Azure tenant, which goes into the authority's path, is a
// GUID or a domain name of non-empty labels: "..", "." and names with an empty label are refused,
// so no tenant can climb or reshape the token endpoint's path.
// Guards against: tenantRE allowing any run of letters, digits, '.' and '-'
// (integrations.go:tenantRE, seen through ValidateObjects)
func TestAzureTenantCannotClimb(t *testing.T) {
	azure := func(tenant string) string {
		return "integrations:\n  - id: az\n    space: root\n    azure: {tenant_id: \"" + tenant +
			"\", client_id: \"00000000-0000-0000-0000-000000000002\"}\n"
	}
	const path = "integrations[0].azure.tenant_id"
	checkEdges(t, []edgeCase{
		{"tenant ..", azure(".."), path},
		{"tenant .", azure("."), path},
		{"tenant with an empty label", azure("contoso..onmicrosoft.com"), path},
		{"tenant starting with a dot", azure(".contoso.com"), path},
		{"tenant ending with a dot", azure("contoso.com."), path},
		{"tenant domain", azure("contoso.onmicrosoft.com"), ""},
		{"tenant guid", azure("00000000-0000-0000-0000-000000000001"), ""},
	})
	// ValidateObjects, which the API runs on stored objects without the file's format rules,
	// still refuses a tenant that would climb the path.
	for _, tenant := range []string{"..", ".", "a..b", ".a", "a."} {
		c := &Config{Spaces: []Space{{ID: RootSpace}}, Integrations: []Integration{{ID: "az", Space: RootSpace,
			Azure: &Azure{TenantID: tenant, ClientID: "00000000-0000-0000-0000-000000000002"}}}}
		c.ApplyObjectDefaults()
		if problemAt(c.ValidateObjects(), path) == nil {
			t.Errorf("ValidateObjects accepted tenant %q: %v", tenant, c.ValidateObjects())
		}
	}
}

// TestVaultRoleEdges pins that a Vault role name starts and ends with a letter, digit or
// '_': '.' and '-' may only stand inside it, and '@', which Vault's role paths refuse, nowhere.
// Guards against: vaultRoleRE allowing '.', '-' or '@' (integrations.go:vaultRoleRE)
func TestVaultRoleEdges(t *testing.T) {
	vault := func(role string) string {
		return "integrations:\n  - id: v\n    space: root\n    vault: {address: \"https://vault.example.com\", role: \"" + role + "\"}\n"
	}
	const path = "integrations[0].vault.role"
	checkEdges(t, []edgeCase{
		{"role .", vault("."), path},
		{"role ..", vault(".."), path},
		{"role starting with -", vault("-broker"), path},
		{"role ending with @", vault("broker@"), path},
		{"role with inner marks", vault("b.r-o_k.er"), ""},
		{"role with an inner @", vault("ci@prod"), path},
		{"one-letter role", vault("b"), ""},
	})
}

// TestCheckpointEveryZeroInCode pins that Validate refuses audit.checkpoint.every of 0 on
// a Config built in code (in a file 0 is refused as written; in code it would never anchor).
// Guards against: cp.Every < 1 turned into cp.Every < 0 (validate.go:checkDurations)
func TestCheckpointEveryZeroInCode(t *testing.T) {
	c := &Config{Issuer: "https://broker.example.com"}
	c.ApplyDefaults()
	c.Audit.Checkpoint.Every = 0
	if problemAt(c.Validate(), "audit.checkpoint.every") == nil {
		t.Errorf("audit.checkpoint.every 0 accepted: %v", c.Validate())
	}
	c.Audit.Checkpoint.Every = 1
	if fe := problemAt(c.Validate(), "audit.checkpoint.every"); fe != nil {
		t.Errorf("audit.checkpoint.every 1 refused: %v", fe)
	}
}

// TestNoDepthBelowACycle pins that spaces hanging below a parent cycle have no depth: a branch
// longer than MaxSpaceDepth under a cycle gets the cycle's problem only, not a "too deep" one
// besides.
// Guards against: d == 0 turned into d < 0 in checkCycles's settled branch
// (validate_tree.go:checkCycles)
func TestNoDepthBelowACycle(t *testing.T) {
	spaces := []Space{{ID: RootSpace}, {ID: "a", Parent: "b"}, {ID: "b", Parent: "a"}}
	prev := "a"
	for i := range MaxSpaceDepth + 2 {
		id := fmt.Sprintf("c%d", i)
		spaces = append(spaces, Space{ID: id, Parent: prev})
		prev = id
	}
	c := &Config{Issuer: "https://broker.example.com", Spaces: spaces}
	c.ApplyDefaults()
	err := c.Validate()
	if problemAt(err, "spaces[1].parent") == nil {
		t.Fatalf("cycle a -> b -> a not reported: %v", err)
	}
	for i := 3; i < len(spaces); i++ {
		if fe := problemAt(err, fmt.Sprintf("spaces[%d].parent", i)); fe != nil {
			t.Errorf("space %s below the cycle reported: %v", spaces[i].ID, fe)
		}
	}
}

// TestWebhookURLWithLoginNeverQuoted pins that a webhook URL carrying a user name or password is
// refused without repeating any of it, neither the login nor the token a collector takes in the
// path or query, in the problem's message or value.
// Guards against: the webhook user-information problem quoting the URL as its value
// (audit_sinks.go:checkWebhookSink)
func TestWebhookURLWithLoginNeverQuoted(t *testing.T) {
	const token = "Tk9secret"
	doc := edgeIssuer + "audit:\n  sinks:\n    - webhook: {url: \"https://ops:pw@siem.example.com/hook/" + token + "?key=" + token + "\"}\n"
	err := parseText(doc)
	fe := problemAt(err, "audit.sinks[0].webhook.url")
	if fe == nil {
		t.Fatalf("webhook URL with a login accepted: %v", err)
	}
	if strings.Contains(fe.Value, token) || strings.Contains(err.Error(), token) {
		t.Errorf("the problem repeats the webhook's token: value %q, error %v", fe.Value, err)
	}
}
