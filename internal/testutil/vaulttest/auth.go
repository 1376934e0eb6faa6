package vaulttest

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	vaultapi "github.com/hashicorp/vault/api"
)

// setupTimeout bounds each setup call made to the server.
const setupTimeout = 15 * time.Second

// JWTConfig configures a JWT auth method (Vault's auth/<mount>/config).
type JWTConfig struct {
	// Mount is where the method is enabled, without the auth/ prefix; default "jwt".
	Mount string
	// DiscoveryURL is the issuer's base URL, without /.well-known/openid-configuration
	// (oidc_discovery_url). Vault fetches it when the config is written, so the issuer must
	// already be serving.
	DiscoveryURL string
	// BoundIssuer is the `iss` every token must carry (bound_issuer); empty: not checked.
	BoundIssuer string
	// SupportedAlgs lists accepted signing algorithms (jwt_supported_algs); empty means
	// Vault's default, RS256 only.
	SupportedAlgs []string
}

// EnableJWT enables the JWT auth method at cfg.Mount and writes its configuration.
func (s *Server) EnableJWT(t testing.TB, cfg JWTConfig) {
	t.Helper()
	mount := strings.Trim(cfg.Mount, "/")
	if mount == "" {
		mount = "jwt"
	}
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	c := s.Client()
	if err := c.Sys().EnableAuthWithOptionsWithContext(ctx, mount, &vaultapi.EnableAuthOptions{Type: "jwt"}); err != nil {
		t.Fatalf("vaulttest: enable jwt auth at %s: %v", mount, err)
	}
	conf := map[string]any{"oidc_discovery_url": cfg.DiscoveryURL}
	if cfg.BoundIssuer != "" {
		conf["bound_issuer"] = cfg.BoundIssuer
	}
	if len(cfg.SupportedAlgs) > 0 {
		conf["jwt_supported_algs"] = cfg.SupportedAlgs
	}
	if _, err := c.Logical().WriteWithContext(ctx, "auth/"+mount+"/config", conf); err != nil {
		t.Fatalf("vaulttest: configure jwt auth at %s: %v", mount, err)
	}
}

// WriteRole writes role name of the JWT auth method at mount (auth/<mount>/role/<name>).
// role holds Vault's parameters as they are, for example role_type, bound_audiences,
// bound_claims, bound_subject, user_claim, token_policies and token_ttl; role_type defaults
// to "jwt".
func (s *Server) WriteRole(t testing.TB, mount, name string, role map[string]any) {
	t.Helper()
	mount = strings.Trim(mount, "/")
	if mount == "" {
		mount = "jwt"
	}
	body := make(map[string]any, len(role)+1)
	for k, v := range role {
		body[k] = v
	}
	if _, ok := body["role_type"]; !ok {
		body["role_type"] = "jwt"
	}
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	if _, err := s.Client().Logical().WriteWithContext(ctx, "auth/"+mount+"/role/"+name, body); err != nil {
		t.Fatalf("vaulttest: write role %s at %s: %v", name, mount, err)
	}
}

// CreateNamespace creates a namespace at the root (sys/namespaces/<name>). Namespaces are a
// Vault Enterprise feature: on an open-source server, which has no such path, the test is
// skipped.
func (s *Server) CreateNamespace(t testing.TB, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	_, err := s.Client().Logical().WriteWithContext(ctx, "sys/namespaces/"+name, map[string]any{})
	if err == nil {
		return
	}
	var re *vaultapi.ResponseError
	if errors.As(err, &re) && (re.StatusCode == http.StatusNotFound || re.StatusCode == http.StatusMethodNotAllowed ||
		unsupported(re.Errors)) {
		t.Skipf("vaulttest: namespaces need Vault Enterprise; this server refused to create %q: %v", name, strings.Join(re.Errors, "; "))
	}
	t.Fatalf("vaulttest: create namespace %s: %v", name, err)
}

// unsupported reports whether Vault's errors say the path does not exist on this server.
func unsupported(errs []string) bool {
	for _, e := range errs {
		if strings.Contains(e, "unsupported path") || strings.Contains(e, "enterprise-only") || strings.Contains(e, "no handler for route") {
			return true
		}
	}
	return false
}
