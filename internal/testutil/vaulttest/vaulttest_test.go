package vaulttest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	vaultapi "github.com/hashicorp/vault/api"

	"github.com/brokerhq/broker/internal/testutil/oidctest"
)

func TestStart(t *testing.T) {
	var pid int
	t.Run("serve", func(t *testing.T) {
		s := Start(t)
		if !strings.HasPrefix(s.Addr(), "http://127.0.0.1:") {
			t.Errorf("Addr = %q", s.Addr())
		}
		if s.RootToken() == "" {
			t.Fatal("no root token")
		}
		ctx := context.Background()
		health, err := s.Client().Sys().HealthWithContext(ctx)
		if err != nil {
			t.Fatalf("health: %v", err)
		}
		if !health.Initialized || health.Sealed {
			t.Errorf("health = %+v, want initialized and unsealed", health)
		}
		self, err := s.Client().Auth().Token().LookupSelfWithContext(ctx)
		if err != nil {
			t.Fatalf("lookup-self with the root token: %v", err)
		}
		if policies, _ := self.TokenPolicies(); len(policies) != 1 || policies[0] != "root" {
			t.Errorf("root token policies = %v", policies)
		}
		if _, err := os.Stat(filepath.Join(s.dir, "home", ".vault-token")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("dev server stored its token in HOME (stat: %v)", err)
		}
		pid = s.proc.Pid()
	})
	if pid == 0 {
		return
	}
	// The subtest's cleanup has stopped the server.
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("vault pid %d still exists after cleanup (kill -0: %v)", pid, err)
	}
}

func TestStartIgnoresVaultEnv(t *testing.T) {
	t.Setenv("VAULT_ADDR", "http://127.0.0.1:1")
	t.Setenv("VAULT_TOKEN", "not-the-root-token")
	t.Setenv("VAULT_NAMESPACE", "elsewhere")
	s := Start(t)
	if _, err := s.Client().Auth().Token().LookupSelfWithContext(context.Background()); err != nil {
		t.Fatalf("lookup-self: %v", err)
	}
}

func TestEnableJWTAndWriteRole(t *testing.T) {
	s := Start(t)
	iss := oidctest.Start(t)
	tests := []struct {
		name  string
		cfg   JWTConfig
		mount string
	}{
		{name: "default mount", cfg: JWTConfig{DiscoveryURL: iss.URL, BoundIssuer: iss.URL}, mount: "jwt"},
		{name: "nested mount and algorithms", cfg: JWTConfig{Mount: "ci/jwt", DiscoveryURL: iss.URL, SupportedAlgs: []string{"RS256", "ES256"}}, mount: "ci/jwt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			s.EnableJWT(t, tt.cfg)
			conf, err := s.Client().Logical().ReadWithContext(ctx, "auth/"+tt.mount+"/config")
			if err != nil || conf == nil {
				t.Fatalf("read config: %v", err)
			}
			if conf.Data["oidc_discovery_url"] != iss.URL || conf.Data["bound_issuer"] != tt.cfg.BoundIssuer {
				t.Errorf("config = %v", conf.Data)
			}

			s.WriteRole(t, tt.mount, "read", map[string]any{
				"bound_audiences": []string{"vault"},
				"bound_claims":    map[string]any{"scope": "read"},
				"user_claim":      "sub",
				"token_policies":  []string{"default"},
				"token_ttl":       "10m",
			})
			role, err := s.Client().Logical().ReadWithContext(ctx, "auth/"+tt.mount+"/role/read")
			if err != nil || role == nil {
				t.Fatalf("read role: %v", err)
			}
			if role.Data["role_type"] != "jwt" || role.Data["user_claim"] != "sub" {
				t.Errorf("role = %v", role.Data)
			}
			if ttl := fmt.Sprint(role.Data["token_ttl"]); ttl != "600" {
				t.Errorf("token_ttl = %v, want 600", role.Data["token_ttl"])
			}
		})
	}
}

func TestCreateNamespace(t *testing.T) {
	s := Start(t)
	s.CreateNamespace(t, "team-a") // skips on open-source Vault
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ns, err := s.Client().Logical().ReadWithContext(ctx, "sys/namespaces/team-a")
	var re *vaultapi.ResponseError
	if err != nil && !errors.As(err, &re) {
		t.Fatalf("read namespace: %v", err)
	}
	if ns == nil {
		t.Errorf("namespace team-a not found after CreateNamespace")
	}
}

// stopper records how Start ends a test without ending the real one.
type stopper struct {
	testing.TB
	fatal, skip string
}

func (s *stopper) Helper() {}
func (s *stopper) Fatalf(format string, args ...any) {
	s.fatal = fmt.Sprintf(format, args...)
	runtime.Goexit()
}
func (s *stopper) Skipf(format string, args ...any) {
	s.skip = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func TestStartWithoutBinary(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "no-vault")
	tests := []struct {
		name      string
		require   string
		wantFatal bool
	}{
		{name: "skipped", require: ""},
		{name: "required", require: "1", wantFatal: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(BinEnv, missing)
			t.Setenv(RequireEnv, tt.require)
			rec := &stopper{TB: t}
			done := make(chan struct{})
			go func() {
				defer close(done)
				Start(rec)
			}()
			<-done
			msg := rec.skip
			if tt.wantFatal {
				msg = rec.fatal
			}
			if msg == "" || (rec.fatal != "") != tt.wantFatal {
				t.Fatalf("fatal = %q, skip = %q", rec.fatal, rec.skip)
			}
			if !strings.Contains(msg, missing) || !strings.Contains(msg, "scripts/build-vault.sh") {
				t.Errorf("message %q should name the path and scripts/build-vault.sh", msg)
			}
		})
	}
}
