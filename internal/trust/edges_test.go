package trust

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/runs"
)

// TestAWSRoleARNWithoutAccountIsAnError pins that a role ARN too short to name an account makes
// Render return an error, never panic (a 500 in the live broker's trust endpoint).
// Guards against: internal/trust/render.go:112 `len(account) < 5` -> `< 4`
func TestAWSRoleARNWithoutAccountIsAnError(t *testing.T) {
	for _, arn := range []string{"arn:aws:iam:123456789012", "arn:aws:iam", "deploy"} {
		t.Run(arn, func(t *testing.T) {
			cfg := exampleConfig(t)
			for i := range cfg.Integrations {
				if a := cfg.Integrations[i].AWS; a != nil {
					a.RoleARN = arn
				}
			}
			defer func() {
				if p := recover(); p != nil {
					t.Fatalf("Render panicked on role_arn %q: %v", arn, p)
				}
			}()
			if _, err := Render(cfg, Request{Provider: "aws", Stack: "vpc-prod", Scope: runs.Write}); err == nil {
				t.Errorf("role_arn %q: no error", arn)
			}
		})
	}
}

// TestWebIdentityNeedsAudience pins that WebIdentity reads a statement as a web-identity grant only
// when it has an aud condition: a statement without one admits tokens of any audience, which the
// emulator must not treat as broker's trust. A statement that does not allow
// sts:AssumeRoleWithWebIdentity is no web-identity grant.
// Guards against: internal/trust/render.go:88 `aud != "" && len(subs) > 0` -> `len(subs) > 0`
// Guards against: internal/trust/render.go:80 dropping the `sts:AssumeRoleWithWebIdentity` action
// check
func TestWebIdentityNeedsAudience(t *testing.T) {
	const issuer = "https://broker.example.com"
	st := func(cond map[string]map[string]any) AWSStatement {
		return AWSStatement{
			Effect:    "Allow",
			Principal: map[string]string{"Federated": "arn:aws:iam::123456789012:oidc-provider/broker.example.com"},
			Action:    []string{"sts:AssumeRoleWithWebIdentity"},
			Condition: cond,
		}
	}
	subs := []string{"space:prod:stack:a:scope:write"}
	for _, tc := range []struct {
		name string
		cond map[string]map[string]any
		ok   bool
	}{
		{"aud and sub", map[string]map[string]any{"StringEquals": {"broker.example.com:aud": "sts.amazonaws.com", "broker.example.com:sub": subs}}, true},
		{"sub only", map[string]map[string]any{"StringEquals": {"broker.example.com:sub": subs}}, false},
		{"empty aud", map[string]map[string]any{"StringEquals": {"broker.example.com:aud": "", "broker.example.com:sub": subs}}, false},
		{"aud only", map[string]map[string]any{"StringEquals": {"broker.example.com:aud": "sts.amazonaws.com"}}, false},
	} {
		if _, ok := st(tc.cond).WebIdentity(issuer); ok != tc.ok {
			t.Errorf("%s: ok = %v, want %v", tc.name, ok, tc.ok)
		}
	}
	other := st(map[string]map[string]any{"StringEquals": {"broker.example.com:aud": "sts.amazonaws.com", "broker.example.com:sub": subs}})
	other.Action = []string{"sts:AssumeRole"}
	if _, ok := other.WebIdentity(issuer); ok {
		t.Error("a statement allowing only sts:AssumeRole is read as a web-identity grant")
	}
}

// TestAWSPolicyCharsCountsCharactersAsWritten pins that the IAM size check counts each character of
// the policy once, as IAM does: a '&', '<' or '>' (which subject templates may hold in literal
// text) is one character, not the six of a JSON \u0026 escape, and a non-ASCII character is one
// character, not its UTF-8 bytes; otherwise a policy that fits is refused.
// Guards against: internal/trust/shared.go:167 `enc.SetEscapeHTML(false)` -> `SetEscapeHTML(true)`
// Guards against: internal/trust/shared.go:171 `utf8.RuneCount(...)` -> `len(...)`
func TestAWSPolicyCharsCountsCharactersAsWritten(t *testing.T) {
	policy := func(sub string) AWSPolicy {
		return AWSPolicy{Version: "2012-10-17", Statement: []AWSStatement{{
			Effect:    "Allow",
			Principal: map[string]string{"Federated": "arn:aws:iam::123456789012:oidc-provider/broker.example.com"},
			Action:    []string{"sts:AssumeRoleWithWebIdentity"},
			Condition: map[string]map[string]any{"StringEquals": {"broker.example.com:sub": []string{sub}}},
		}}}
	}
	base := policy("a:x:stack:s:scope:write").Chars()
	for _, sub := range []string{"a:&:stack:s:scope:write", "a:<:stack:s:scope:write", "a:>:stack:s:scope:write", "a:é:stack:s:scope:write"} {
		if got := policy(sub).Chars(); got != base {
			t.Errorf("subject %q: Chars = %d, want %d (one character for one character)", sub, got, base)
		}
	}
}

// TestAzureCredentialNamesUniqueForTwoSubjects pins that a stack and scope whose template renders
// exactly two subjects gets two federated credentials with distinct names: Entra keys a credential
// by its name, so two of one name would leave one subject (and its runs) untrusted.
// Guards against: internal/trust/render.go:294 `len(t.subjects) > 1` -> `> 2`
func TestAzureCredentialNamesUniqueForTwoSubjects(t *testing.T) {
	cfg := parseConfig(t, `issuer: https://broker.example.com
spaces: [{id: root, subject_template: "space:{spaceId}:stack:{callerId}:phase:{runPhase}:scope:{scope}"}]
stacks: [{id: a, space: root}]
integrations:
  - {id: az, space: root, azure: {tenant_id: 00000000-0000-0000-0000-000000000001, client_id: 00000000-0000-0000-0000-000000000002}}
attachments:
  - {stack: a, integration: az, read: true}
`)
	doc, err := Render(cfg, Request{Provider: "azure", Stack: "a", Scope: runs.Read})
	if err != nil {
		t.Fatal(err)
	}
	creds := doc.([]azureCredential)
	if len(creds) != 2 {
		t.Fatalf("want 2 credentials (INITIALIZING, PLANNING), got %+v", creds)
	}
	if creds[0].Name == creds[1].Name {
		t.Errorf("two federated credentials share the name %q: Entra keeps one", creds[0].Name)
	}
	for i, c := range creds {
		if want := fmt.Sprintf("broker-a-read-%d", i+1); c.Name != want {
			t.Errorf("credential %d named %q, want %q", i, c.Name, want)
		}
	}
}

// azureAppConfig is stacks s0..s<both-1> attached to one Entra application for read and write,
// and r0..r<readOnly-1> for read only, in root; the template gives each (stack, scope) one
// subject, so 2*both+readOnly credentials.
func azureAppConfig(both, readOnly int) string {
	var stacks, atts strings.Builder
	for i := range both {
		fmt.Fprintf(&stacks, "{id: s%d, space: root}, ", i)
		fmt.Fprintf(&atts, "  - {stack: s%d, integration: az, read: true, write: true}\n", i)
	}
	for i := range readOnly {
		fmt.Fprintf(&stacks, "{id: r%d, space: root}, ", i)
		fmt.Fprintf(&atts, "  - {stack: r%d, integration: az, read: true}\n", i)
	}
	return `issuer: https://broker.example.com
spaces: [{id: root, subject_template: "space:{spaceId}:stack:{callerId}:scope:{scope}"}]
stacks: [` + strings.TrimSuffix(stacks.String(), ", ") + `]
integrations:
  - {id: az, space: root, azure: {tenant_id: 00000000-0000-0000-0000-000000000001, client_id: 00000000-0000-0000-0000-000000000002}}
attachments:
` + atts.String()
}

// TestAzureTwentyCredentialsFit pins Entra's limit exactly: an application shared by attachments
// needing 20 federated credentials prints; 21 are refused with ErrTooManyCredentials.
// Guards against: internal/trust/render.go:270 `len(subjects) > AzureMaxCredentials` -> `>=`
func TestAzureTwentyCredentialsFit(t *testing.T) {
	for _, tc := range []struct {
		name     string
		readOnly int
		refused  bool
	}{{"20 credentials", 0, false}, {"21 credentials", 1, true}} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := parseConfig(t, azureAppConfig(10, tc.readOnly))
			_, err := Render(cfg, Request{Provider: "azure", Stack: "s0", Scope: runs.Write})
			if tc.refused != errors.Is(err, ErrTooManyCredentials) || (!tc.refused && err != nil) {
				t.Errorf("err = %v, want refused %v", err, tc.refused)
			}
		})
	}
}

// TestGrantedIdentitySpellings pins that spellings a cloud reads as one identity name one identity
// (so the read-beside-write warning and the shared trust cannot be split by spelling): a GCP
// service account email in any case; one Vault server written with its scheme's default port (http
// :80, https :443, IPv6 hosts included); one namespace with or without slashes.
// Guards against: internal/trust/shared.go:104 `strings.ToLower(in.GCP.ServiceAccount)` ->
// `in.GCP.ServiceAccount`
// Guards against: internal/trust/vault_role.go:198 dropping `|| (u.Scheme == "http" && port ==
// "80")`
// Guards against: internal/trust/vault_role.go:201 `u.Host = "[" + u.Host + "]"` -> `u.Host =
// u.Host`
// Guards against: internal/trust/vault_role.go:35 `strings.Trim(in.Vault.Namespace, "/")` ->
// `in.Vault.Namespace`
// Guards against: internal/trust/vault_role.go:30 dropping the default mount for an empty one
func TestGrantedIdentitySpellings(t *testing.T) {
	gcp := func(sa string) config.Integration { return config.Integration{GCP: &config.GCP{ServiceAccount: sa}} }
	vault := func(addr, ns string) config.Integration {
		return config.Integration{Vault: &config.Vault{Address: addr, Namespace: ns, Mount: "jwt", Role: "deploy"}}
	}
	mount := func(m string) config.Integration {
		return config.Integration{Vault: &config.Vault{Address: "https://vault.example.com", Mount: m, Role: "deploy"}}
	}
	for _, tc := range []struct {
		name string
		a, b config.Integration
		same bool
	}{
		{"service account in upper case", gcp("deploy@p.iam.gserviceaccount.com"), gcp("Deploy@P.iam.gserviceaccount.com"), true},
		{"another service account", gcp("deploy@p.iam.gserviceaccount.com"), gcp("read@p.iam.gserviceaccount.com"), false},
		{"http with :80", vault("http://127.0.0.1", ""), vault("http://127.0.0.1:80", ""), true},
		{"https with :443", vault("https://vault.example.com", ""), vault("https://vault.example.com:443", ""), true},
		{"IPv6 https with :443", vault("https://[2001:db8::1]", ""), vault("https://[2001:db8::1]:443", ""), true},
		{"http on :443 is another server", vault("http://vault.example.com", ""), vault("http://vault.example.com:443", ""), false},
		{"namespace with slashes", vault("https://vault.example.com", "team/"), vault("https://vault.example.com", "/team"), true},
		{"the default mount left unset", mount(""), mount("jwt"), true},
		{"the mount with slashes", mount("/jwt/"), mount("jwt"), true},
		// The roles printed for both grant the policy named after the role: one identity.
		{"another mount", mount("jwt-b"), mount("jwt"), true},
		{"another namespace", vault("https://vault.example.com", "team-a"), vault("https://vault.example.com", "team-b"), false},
	} {
		a, b := GrantedIdentity(tc.a), GrantedIdentity(tc.b)
		if (a == b) != tc.same {
			t.Errorf("%s: %q vs %q, same %v, want %v", tc.name, a, b, a == b, tc.same)
		}
	}
}

// TestSharedTrustIgnoresAttachmentOrder pins that the trust printed for an object shared by several
// stacks does not depend on the order attachments are listed in (a configuration file and a live
// broker listing the same attachments otherwise print different documents, and an operator diffing
// them sees a change that is none).
// Guards against: internal/trust/shared.go:74 sort of the sharing targets removed (comparator
// always 0)
func TestSharedTrustIgnoresAttachmentOrder(t *testing.T) {
	const head = `issuer: https://broker.example.com
spaces: [{id: root}]
stacks: [{id: a, space: root}, {id: b, space: root}]
integrations:
  - {id: role, space: root, aws: {role_arn: "arn:aws:iam::123456789012:role/deploy"}}
  - {id: v, space: root, audience: vault, vault: {address: "https://vault.example.com", role: deploy}}
attachments:
`
	ab := parseConfig(t, head+"  - {stack: a, integration: role, write: true}\n  - {stack: b, integration: role, write: true}\n"+
		"  - {stack: a, integration: v, write: true}\n  - {stack: b, integration: v, write: true}\n")
	ba := parseConfig(t, head+"  - {stack: b, integration: role, write: true}\n  - {stack: a, integration: role, write: true}\n"+
		"  - {stack: b, integration: v, write: true}\n  - {stack: a, integration: v, write: true}\n")
	for _, provider := range []string{"aws", "vault"} {
		req := Request{Provider: provider, Stack: "a", Scope: runs.Write}
		if x, y := render(t, ab, req), render(t, ba, req); x != y {
			t.Errorf("%s: the order of attachments changes the document:\n%s\n%s", provider, x, y)
		}
	}
}

// TestLeftOutNotesNameOnlyAttachedScopes pins that the notes on attachments left out of a shared
// object's trust name only the scopes the left-out stack is attached for: a stack attached for
// write alone is never reported as a read sharer, nor one attached for read alone as a write
// sharer.
// Guards against: internal/trust/shared.go:43 dropping `(scope == runs.Read && !at.Read) ||`
// Guards against: shared.go:sharing dropping the write-scope skip
func TestLeftOutNotesNameOnlyAttachedScopes(t *testing.T) {
	for _, tc := range []struct {
		attached config.Attachment
		want     string
	}{
		{config.Attachment{Stack: "evil", Integration: "aws-evil", Write: true}, "stack evil (write) through integration aws-evil"},
		{config.Attachment{Stack: "evil", Integration: "aws-evil", Read: true}, "stack evil (read) through integration aws-evil"},
	} {
		cfg := sharedConfig(t)
		cfg.Spaces = append(cfg.Spaces, config.Space{ID: "base", Parent: "root", Inherit: true})
		cfg.Stacks = append(cfg.Stacks, config.Stack{ID: "evil", Space: "base"})
		cfg.Integrations = append(cfg.Integrations,
			config.Integration{ID: "aws-evil", Space: "base", AWS: &config.AWS{RoleARN: "arn:aws:iam::123456789012:role/shared"}})
		cfg.Attachments = append(cfg.Attachments, tc.attached)
		cfg.ApplyObjectDefaults()
		if err := cfg.Validate(); err != nil {
			t.Fatal(err)
		}
		_, notes, err := RenderNotes(cfg, Request{Provider: "aws", Stack: "a", Scope: runs.Read})
		if err != nil {
			t.Fatal(err)
		}
		var evil []string
		for _, n := range notes {
			if strings.HasPrefix(n, "stack evil ") {
				evil = append(evil, n)
			}
		}
		if len(evil) != 1 || !strings.HasPrefix(evil[0], tc.want) {
			t.Errorf("notes on stack evil (read %v, write %v): %q, want one beginning %q", tc.attached.Read, tc.attached.Write, evil, tc.want)
		}
	}
}

// TestVaultCommandsTrimMountSlashes pins that a mount written with slashes ("/jwt/", which
// configuration accepts) yields the mount's real path in both vault commands, never
// "auth//jwt//...", which Vault does not route to the mount.
// Guards against: internal/trust/vault_command.go:63 `strings.Trim(v.Mount, "/")` -> `v.Mount`
func TestVaultCommandsTrimMountSlashes(t *testing.T) {
	cfg := exampleConfig(t)
	for i := range cfg.Integrations {
		if v := cfg.Integrations[i].Vault; v != nil {
			v.Mount = "/jwt/"
		}
	}
	req := Request{Provider: "vault", Stack: "vpc-prod", Scope: runs.Write}
	role, err := VaultWriteCommand(cfg, req)
	if err != nil {
		t.Fatal(err)
	}
	auth, err := VaultAuthConfigCommand(cfg, req)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ got, want string }{
		{role, "vault write auth/jwt/role/"},
		{auth, "vault write auth/jwt/config "},
	} {
		if len(tc.got) < len(tc.want) || tc.got[:len(tc.want)] != tc.want {
			t.Errorf("command %q, want it to start %q", tc.got, tc.want)
		}
	}
}
