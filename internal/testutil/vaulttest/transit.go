package vaulttest

import (
	"context"
	"strings"
	"testing"
	"time"

	vaultapi "github.com/hashicorp/vault/api"
)

// EnableTransit enables the Transit secrets engine at mount.
func (s *Server) EnableTransit(t testing.TB, mount string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	if err := s.Client().Sys().MountWithContext(ctx, strings.Trim(mount, "/"), &vaultapi.MountInput{Type: "transit"}); err != nil {
		t.Fatalf("vaulttest: enable transit at %s: %v", mount, err)
	}
}

// WritePolicy writes an ACL policy named name with the given HCL rules.
func (s *Server) WritePolicy(t testing.TB, name, rules string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	if err := s.Client().Sys().PutPolicyWithContext(ctx, name, rules); err != nil {
		t.Fatalf("vaulttest: write policy %s: %v", name, err)
	}
}

// TokenOptions are the properties of a token CreateToken makes.
type TokenOptions struct {
	// Policies are the token's policies (without "default" unless listed).
	Policies []string
	// TTL is its TTL; zero for Vault's default.
	TTL time.Duration
	// Period makes it a periodic token, renewable indefinitely by this period.
	Period time.Duration
	// Renewable makes it renewable.
	Renewable bool
}

// CreateToken creates a child token of the root token (auth/token/create) and returns it.
func (s *Server) CreateToken(t testing.TB, opts TokenOptions) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	renewable := opts.Renewable
	req := &vaultapi.TokenCreateRequest{Policies: opts.Policies, NoDefaultPolicy: true, Renewable: &renewable}
	if opts.TTL > 0 {
		req.TTL = opts.TTL.String()
	}
	if opts.Period > 0 {
		req.Period = opts.Period.String()
	}
	sec, err := s.Client().Auth().Token().CreateWithContext(ctx, req)
	if err != nil || sec == nil || sec.Auth == nil {
		t.Fatalf("vaulttest: create token: %v", err)
	}
	return sec.Auth.ClientToken
}

// TransitToken writes a policy letting a token create, read, rotate and sign with the Transit
// keys of mount whose names start with keyPrefix, and look up and renew itself (what broker's
// vault-transit backend needs, and nothing more), and returns a new token holding only that
// policy with opts's TTL, period and renewability.
func (s *Server) TransitToken(t testing.TB, mount, keyPrefix string, opts TokenOptions) string {
	t.Helper()
	mount = strings.Trim(mount, "/")
	name := "transit-" + strings.ReplaceAll(mount, "/", "-") + "-" + keyPrefix
	s.WritePolicy(t, name, `
path "`+mount+`/keys/`+keyPrefix+`*" { capabilities = ["create", "read", "update"] }
path "`+mount+`/sign/`+keyPrefix+`*" { capabilities = ["update"] }
path "auth/token/lookup-self" { capabilities = ["read"] }
path "auth/token/renew-self" { capabilities = ["update"] }
`)
	opts.Policies = append([]string{name}, opts.Policies...)
	return s.CreateToken(t, opts)
}
