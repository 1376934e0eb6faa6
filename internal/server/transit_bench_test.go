package server

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	vaultapi "github.com/hashicorp/vault/api"
)

// BenchmarkVaultTransit measures, in one run on one Vault dev server, tokens/s of POST /v1/token
// with the file key backend, with the vault-transit backend (every token one Transit sign call),
// and of Vault's own OIDC provider (GET identity/oidc/token/<role> with an entity's token, RS256
// like broker's default), and logs the ratios of the rates measured (run with -v).
// `go test -run '^$' -bench VaultTransit -benchtime 3s -v ./internal/server/`.
func BenchmarkVaultTransit(b *testing.B) {
	v, root := startTransitVault(b)
	rate := map[string]float64{}
	record := func(name string, sub *testing.B) {
		if sub.N > 0 && sub.Elapsed() > 0 {
			rate[name] = float64(sub.N) / sub.Elapsed().Seconds()
		}
	}
	b.Run("file", func(b *testing.B) {
		benchTokenEndpoint(b, startServer(b, serverOptions{keyBackend: "file", quiet: true}))
		record("file", b)
	})
	b.Run("vault-transit", func(b *testing.B) {
		benchTokenEndpoint(b, startServer(b, serverOptions{keyBackend: "vault-transit", keysYAML: transitYAML(v.Addr()), quiet: true}))
		record("vault-transit", b)
	})
	oidcToken := vaultOIDCToken(b, root)
	b.Run("vault-oidc", func(b *testing.B) {
		benchVaultOIDC(b, v.Addr(), oidcToken)
		record("vault-oidc", b)
	})
	if rate["vault-transit"] > 0 && rate["file"] > 0 && rate["vault-oidc"] > 0 {
		b.Logf("tokens/s: file %.0f, vault-transit %.0f, Vault identity/oidc/token %.0f", rate["file"], rate["vault-transit"], rate["vault-oidc"])
		b.Logf("vault-transit / file = %.2f; vault-transit / Vault OIDC = %.2f",
			rate["vault-transit"]/rate["file"], rate["vault-transit"]/rate["vault-oidc"])
	}
}

// vaultOIDCToken sets up Vault's OIDC identity provider (an RS256 key, a role, a userpass user
// with an entity allowed to read the role's tokens) and returns that user's token.
func vaultOIDCToken(b *testing.B, root *vaultapi.Client) string {
	b.Helper()
	ctx := context.Background()
	steps := []struct {
		path string
		body map[string]any
	}{
		{"identity/oidc/key/bench", map[string]any{"algorithm": "RS256", "allowed_client_ids": "*"}},
		{"identity/oidc/role/bench", map[string]any{"key": "bench", "ttl": "1h"}},
		{"sys/policies/acl/oidc-bench", map[string]any{"policy": `path "identity/oidc/token/bench" { capabilities = ["read"] }`}},
		{"auth/userpass/users/bench", map[string]any{"password": "bench-password", "token_policies": "oidc-bench"}},
	}
	if err := root.Sys().EnableAuthWithOptionsWithContext(ctx, "userpass", &vaultapi.EnableAuthOptions{Type: "userpass"}); err != nil {
		b.Fatal(err)
	}
	for _, s := range steps {
		if _, err := root.Logical().WriteWithContext(ctx, s.path, s.body); err != nil {
			b.Fatalf("vault %s: %v", s.path, err)
		}
	}
	sec, err := root.Logical().WriteWithContext(ctx, "auth/userpass/login/bench", map[string]any{"password": "bench-password"})
	if err != nil || sec == nil || sec.Auth == nil || sec.Auth.EntityID == "" {
		b.Fatalf("userpass login: %v", err)
	}
	return sec.Auth.ClientToken
}

// benchVaultOIDC hammers GET identity/oidc/token/bench as benchTokenEndpoint does POST /v1/token.
func benchVaultOIDC(b *testing.B, addr, token string) {
	url := addr + "/v1/identity/oidc/token/bench"
	b.SetParallelism(benchParallelism)
	b.ReportAllocs()
	cpu := processCPU(b)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		tr := &http.Transport{MaxIdleConns: 64, MaxIdleConnsPerHost: 64, IdleConnTimeout: time.Minute}
		defer tr.CloseIdleConnections()
		client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
		for pb.Next() {
			req, err := http.NewRequest("GET", url, nil)
			if err != nil {
				b.Fatal(err)
			}
			req.Header.Set("X-Vault-Token", token)
			resp, err := client.Do(req)
			if err != nil {
				b.Fatalf("GET %s: %v", url, err)
			}
			raw, err := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			if err != nil || resp.StatusCode != http.StatusOK || !strings.Contains(string(raw), `"token":"ey`) {
				b.Fatalf("GET %s: %d %s %v", url, resp.StatusCode, raw, err)
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
	b.ReportMetric(float64(processCPU(b)-cpu)/float64(b.N), "cpu-ns/op")
}
