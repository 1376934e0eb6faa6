package config

import (
	"errors"
	"strings"
	"testing"
)

// TestAudienceLetterEdges checks that an audience may hold every ASCII letter and digit,
// the last of each range included.
// Guards against: 'Z' dropped from the upper-case letters of isASCIIAlnum
// Guards against: '9' dropped from the digits of isASCIIAlnum
// Guards against: 'z' dropped from the lower-case letters of isASCIIAlnum
func TestAudienceLetterEdges(t *testing.T) {
	for _, aud := range []string{"api://Z", "urn:9", "z", "AZaz09"} {
		if err := CheckAudience(aud); err != nil {
			t.Errorf("CheckAudience(%q) = %v, want nil", aud, err)
		}
	}
}

// TestEveryIntegrationAudienceChecked checks that every integration's audience is checked,
// also after an integration that sets none.
// Guards against: checkAudiences stopping at the first integration without an audience
func TestEveryIntegrationAudienceChecked(t *testing.T) {
	doc := edgeIssuer + "integrations:\n" +
		"  - {id: v1, space: root, vault: {address: \"https://v:8200\", role: r}}\n" +
		"  - {id: v2, space: root, vault: {address: \"https://v:8200\", role: r}, audience: \"a b\"}\n"
	if problemAt(parseText(doc), "integrations[1].audience") == nil {
		t.Errorf("the second integration's audience \"a b\" accepted: %v", parseText(doc))
	}
}

// TestProviderOrder checks that of several provider blocks Provider names the first in
// the order aws, gcp, azure, vault.
// Guards against: gcp tested before aws in Integration.Provider
func TestProviderOrder(t *testing.T) {
	in := Integration{AWS: &AWS{}, GCP: &GCP{}, Vault: &Vault{}}
	if got := in.Provider(); got != ProviderAWS {
		t.Errorf("Provider() = %q, want %q", got, ProviderAWS)
	}
}

// TestGCPTokenAudience checks that a GCP integration without an audience sends tokens for
// its workload identity provider's full resource name.
// Guards against: TokenAudience not passing the workload identity provider
func TestGCPTokenAudience(t *testing.T) {
	const wip = "projects/1/locations/global/workloadIdentityPools/pool/providers/prov"
	in := Integration{GCP: &GCP{WorkloadIdentityProvider: wip}}
	if got, want := in.TokenAudience(), "//iam.googleapis.com/"+wip; got != want {
		t.Errorf("TokenAudience() = %q, want %q", got, want)
	}
	in.Audience = "custom"
	if got := in.TokenAudience(); got != "custom" {
		t.Errorf("TokenAudience() with an audience = %q, want custom", got)
	}
}

// TestObjectCount checks that ObjectCount counts every kind of catalog object.
// Guards against: API keys left out of ObjectCount
func TestObjectCount(t *testing.T) {
	c := &Config{Spaces: make([]Space, 1), Stacks: make([]Stack, 2),
		Integrations: make([]Integration, 3),
		Attachments:  make([]Attachment, 4), Roles: make([]Role, 5), APIKeys: make([]APIKey, 6)}
	if got := c.ObjectCount(); got != 21 {
		t.Errorf("ObjectCount() = %d, want 21", got)
	}
}

// TestRootHoldsEverySpace checks that every space that reaches root lies within root (a
// role binding on root covers it) and within itself.
// Guards against: IsWithin skipping the first space of the path (root)
func TestRootHoldsEverySpace(t *testing.T) {
	c := &Config{Spaces: []Space{
		{ID: RootSpace}, {ID: "a", Parent: RootSpace}, {ID: "b", Parent: "a"},
	}}
	for _, s := range []string{RootSpace, "a", "b"} {
		if !c.IsWithin(s, RootSpace) || !c.IsWithin(s, s) {
			t.Errorf("IsWithin(%q, root) = %v, IsWithin(%q, %q) = %v; want both true",
				s, c.IsWithin(s, RootSpace), s, s, c.IsWithin(s, s))
		}
	}
}

// TestRootSpaceLookup checks that Space finds every space by id, root (which has no
// parent) included.
// Guards against: Space skipping spaces without a parent
func TestRootSpaceLookup(t *testing.T) {
	c := &Config{Spaces: []Space{{ID: RootSpace}, {ID: "a", Parent: RootSpace}}}
	for _, id := range []string{RootSpace, "a"} {
		if s, ok := c.Space(id); !ok || s.ID != id {
			t.Errorf("Space(%q) = %+v, %v", id, s, ok)
		}
	}
	if _, ok := c.Space("b"); ok {
		t.Errorf("Space(b) found")
	}
}

// TestProviderlessIntegrationHoldsNoSlot checks that integrations without a provider
// block hold no read or write slot of a stack: two of them attached to one stack are refused
// for their missing provider, never as a conflict (the API's 409).
// Guards against: slots taken for the provider "" in checkAttachments
func TestProviderlessIntegrationHoldsNoSlot(t *testing.T) {
	doc := edgeIssuer + "stacks: [{id: s, space: root}]\n" +
		"integrations:\n  - {id: i1, space: root}\n  - {id: i2, space: root}\n" +
		"attachments:\n  - {stack: s, integration: i1, read: true}\n" +
		"  - {stack: s, integration: i2, read: true}\n"
	err := parseText(doc)
	if problemAt(err, "integrations[0]") == nil {
		t.Fatalf("integration without a provider accepted: %v", err)
	}
	var es Errors
	if errors.As(err, &es) {
		for _, fe := range es {
			if fe.Conflict {
				t.Errorf("conflict reported: %v", fe)
			}
		}
	}
}

// TestProblemValueKeepsLoginRedacted checks that the value a problem records (not only its
// message) has any login written into a URL redacted, short or cut.
// Guards against: newFieldError recording the value without RedactLogins
func TestProblemValueKeepsLoginRedacted(t *testing.T) {
	for _, pw := range []string{"s3cr3tpw", strings.Repeat("s3cr3tpw", 30)} {
		doc := edgeIssuer + "tokens:\n  ttl: https://ops:" + pw + "@host\n"
		fe := problemAt(parseText(doc), "tokens.ttl")
		if fe == nil {
			t.Fatalf("ttl with a URL accepted")
		}
		if strings.Contains(fe.Value, "s3cr3t") {
			t.Errorf("problem value repeats the password: %q", fe.Value)
		}
	}
}
