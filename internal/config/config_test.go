package config

import (
	"github.com/brokerhq/broker/internal/testutil/contract"

	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

func loadExample(t *testing.T) *Config {
	t.Helper()
	examplePath := contract.ExamplePath(t)
	c, err := Load(examplePath)
	if err != nil {
		t.Fatalf("Load(%s): %v", examplePath, err)
	}
	return c
}

func TestLoadExample(t *testing.T) {
	c := loadExample(t)
	examplePath := contract.ExamplePath(t)
	checks := []struct {
		name      string
		got, want any
	}{
		{"source", c.Source, examplePath},
		{"issuer", c.Issuer, "https://broker.example.com"},
		{"listen", c.Listen, "127.0.0.1:8080"},
		{"tls.cert_file", c.TLS.CertFile, "/etc/broker/tls.crt"},
		{"tls.key_file", c.TLS.KeyFile, "/etc/broker/tls.key"},
		{"store.redis.url", c.Store.Redis.URL, "redis://127.0.0.1:6379/0"},
		{"keys.backend", c.Keys.Backend, BackendFile},
		{"keys.dir", c.Keys.Dir, "/var/lib/broker/keys"},
		{"keys.algorithm", c.Keys.Algorithm, "RS256"},
		{"keys.rotation.period", c.Keys.Rotation.Period, 720 * time.Hour},
		{"keys.rotation.prepublish", c.Keys.Rotation.Prepublish, 24 * time.Hour},
		{"keys.rotation.retain", c.Keys.Rotation.Retain, 24 * time.Hour},
		{"keys.vault_transit", c.Keys.VaultTransit == nil, true},
		{"tokens.ttl", c.Tokens.TTL, time.Hour},
		{"tokens.default_audience", c.Tokens.DefaultAudience, "broker.example.com"},
		{"runs.ttl", c.Runs.TTL, 3 * time.Hour},
		{"http.read_header_timeout", c.HTTP.ReadHeaderTimeout, 5 * time.Second},
		{"http.idle_timeout", c.HTTP.IdleTimeout, 120 * time.Second},
		{"spaces", len(c.Spaces), 3},
		{"spaces[1]", c.Spaces[1], Space{ID: "prod", Parent: "root", Inherit: true}},
		{"spaces[2]", c.Spaces[2], Space{ID: "dev", Parent: "root",
			SubjectTemplate: "space:{spaceId}:stack:{callerId}:scope:{scope}"}},
		{"stacks", c.Stacks, []Stack{{ID: "vpc-prod", Space: "prod"}, {ID: "app-dev", Space: "dev"}}},
		{"integrations", len(c.Integrations), 5},
		{"aws-prod-read", *c.Integrations[0].AWS, AWS{Mode: AWSModeWebIdentity,
			RoleARN: "arn:aws:iam::123456789012:role/broker-read", Region: "eu-west-1",
			STSEndpoint: "https://sts.eu-west-1.amazonaws.com"}},
		{"aws-prod-read duration", c.Integrations[0].Duration, time.Hour},
		{"aws-prod-read timeout", c.Integrations[0].Timeout, 10 * time.Second},
		{"aws-prod-write audience", c.Integrations[1].Audience, "sts.amazonaws.com"},
		{"gcp-shared space", c.Integrations[2].Space, "root"},
		{"gcp-shared", *c.Integrations[2].GCP, GCP{
			WorkloadIdentityProvider: "projects/123456/locations/global/workloadIdentityPools/broker/providers/broker",
			ServiceAccount:           "terraform@my-project.iam.gserviceaccount.com",
			Scopes:                   []string{"https://www.googleapis.com/auth/cloud-platform"},
			STSEndpoint:              "https://sts.googleapis.com",
			IAMCredentialsEndpoint:   "https://iamcredentials.googleapis.com"}},
		{"azure-prod", *c.Integrations[3].Azure, Azure{
			TenantID: "00000000-0000-0000-0000-000000000001", ClientID: "00000000-0000-0000-0000-000000000002",
			SubscriptionID: "00000000-0000-0000-0000-000000000003", Scope: "https://management.azure.com/.default",
			AuthorityHost: "https://login.microsoftonline.com"}},
		{"vault-prod", *c.Integrations[4].Vault, Vault{Address: "https://vault.example.com:8200", Mount: "jwt", Role: "vpc-prod"}},
		{"vault-prod audience", c.Integrations[4].Audience, "vault"},
		{"providers", []string{c.Integrations[0].Provider(), c.Integrations[2].Provider(),
			c.Integrations[3].Provider(), c.Integrations[4].Provider()}, []string{"aws", "gcp", "azure", "vault"}},
		{"attachments", c.Attachments, []Attachment{
			{Stack: "vpc-prod", Integration: "aws-prod-read", Read: true},
			{Stack: "vpc-prod", Integration: "aws-prod-write", Write: true},
			{Stack: "vpc-prod", Integration: "gcp-shared", Read: true, Write: true},
			{Stack: "vpc-prod", Integration: "vault-prod", Read: true, Write: true}}},
		{"roles", c.Roles, []Role{
			{ID: "orchestrator", Actions: []string{ActionRunCreate, ActionRunRead, ActionRunUpdate}},
			{ID: "auditor", Actions: []string{ActionAuditRead, ActionRunRead}}}},
		{"api_keys[0]", c.APIKeys[0], APIKey{ID: "ci",
			SecretSHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
			Bindings:     []Binding{{Role: "orchestrator", Space: "prod"}}}},
		{"api_keys[1] binding", c.APIKeys[1].Bindings, []Binding{{Role: "auditor", Space: "root"}}},
		{"usable prod", c.UsableSpaces("prod"), []string{"prod", "root"}},
		{"usable dev", c.UsableSpaces("dev"), []string{"dev"}},
		{"space path", c.SpacePath("prod"), []string{"root", "prod"}},
	}
	for _, ch := range checks {
		if !equal(ch.got, ch.want) {
			t.Errorf("%s = %#v, want %#v", ch.name, ch.got, ch.want)
		}
	}
	if HashAPIKeySecret("test") != c.APIKeys[0].SecretSHA256 {
		t.Errorf("HashAPIKeySecret(test) does not match the example's sha256(\"test\")")
	}
}

// TestValidateKeepsLines checks that Validate, run again after a change, still names lines.
func TestValidateKeepsLines(t *testing.T) {
	c := loadExample(t)
	examplePath := contract.ExamplePath(t)
	src, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	c.Stacks[1].Space = "nope"
	err = c.Validate()
	want := examplePath + ":" + itoa(lineOf(string(src), "space: dev")) + `: stacks[1].space: space "nope" does not exist`
	if err == nil || err.Error() != want {
		t.Fatalf("Validate() = %v, want %s", err, want)
	}
}

func TestDefault(t *testing.T) {
	c, secret, err := Default()
	if err != nil {
		t.Fatalf("Default(): %v", err)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("Default().Validate(): %v", err)
	}
	if !regexp.MustCompile(`^brk_[A-Za-z0-9_-]{43}$`).MatchString(secret) {
		t.Errorf("secret %q does not look like brk_ + 43 base64url characters", secret)
	}
	key, ok := c.APIKey(BootstrapKeyID)
	if !ok {
		t.Fatalf("no %s key", BootstrapKeyID)
	}
	sum := sha256.Sum256([]byte(secret))
	if key.SecretSHA256 != hex.EncodeToString(sum[:]) {
		t.Errorf("bootstrap key hash %s is not sha256 of the secret", key.SecretSHA256)
	}
	if !equal(key.Bindings, []Binding{{Role: "admin", Space: RootSpace}}) {
		t.Errorf("bootstrap bindings = %v", key.Bindings)
	}
	role, ok := c.Role("admin")
	if !ok || !equal(role.Actions, Actions) {
		t.Errorf("admin role = %v, want all actions %v", role, Actions)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"source", c.Source, DefaultSource},
		{"issuer", c.Issuer, "http://127.0.0.1:8080"},
		{"listen", c.Listen, "127.0.0.1:8080"},
		{"store", c.Store == nil, true},
		{"backend", c.Keys.Backend, BackendMemory},
		{"algorithm", c.Keys.Algorithm, "RS256"},
		{"audience", c.Tokens.DefaultAudience, "127.0.0.1:8080"},
		{"usable demo", c.UsableSpaces("demo"), []string{"demo", "root"}},
		{"demo-stack", c.Stacks, []Stack{{ID: "demo-stack", Space: "demo"}}},
	}
	for _, ch := range checks {
		if !equal(ch.got, ch.want) {
			t.Errorf("%s = %#v, want %#v", ch.name, ch.got, ch.want)
		}
	}
	var read, write []string
	for _, a := range c.Attachments {
		if a.Stack != "demo-stack" {
			continue
		}
		in, _ := c.Integration(a.Integration)
		if a.Read {
			read = append(read, in.Provider())
		}
		if a.Write {
			write = append(write, in.Provider())
		}
	}
	for _, p := range []string{ProviderAWS, ProviderGCP, ProviderAzure, ProviderVault} {
		if !slices.Contains(read, p) || !slices.Contains(write, p) {
			t.Errorf("demo-stack lacks a read or write %s attachment (read %v, write %v)", p, read, write)
		}
	}

	_, other, err := Default()
	if err != nil || other == secret {
		t.Errorf("second Default() gave secret %q, err %v; want a fresh secret", other, err)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load("/nonexistent/broker.yaml")
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Load(missing) = %v, want an error wrapping os.ErrNotExist", err)
	}
}

func TestUsableSpaces(t *testing.T) {
	c := &Config{Spaces: []Space{
		{ID: "root"},
		{ID: "a", Parent: "root", Inherit: true},
		{ID: "b", Parent: "a", Inherit: true},
		{ID: "c", Parent: "b"},
		{ID: "x", Parent: "root"},
		{ID: "y", Parent: "x", Inherit: true},
	}}
	cases := []struct {
		space string
		want  []string
	}{
		{"root", []string{"root"}},
		{"a", []string{"a", "root"}},
		{"b", []string{"b", "a", "root"}},
		{"c", []string{"c"}},
		{"y", []string{"y", "x"}},
		{"nope", nil},
	}
	for _, tc := range cases {
		if got := c.UsableSpaces(tc.space); !equal(got, tc.want) {
			t.Errorf("UsableSpaces(%q) = %v, want %v", tc.space, got, tc.want)
		}
	}
	if !c.IsWithin("c", "a") || c.IsWithin("a", "c") || !c.IsWithin("y", "y") {
		t.Errorf("IsWithin gives wrong answers")
	}
}

func lineOf(src, marker string) int {
	for i, l := range strings.Split(src, "\n") {
		if strings.Contains(l, marker) {
			return i + 1
		}
	}
	return 0
}

func TestKeyBackendFollowsStore(t *testing.T) {
	base := "issuer: https://broker.example.com\nstore: {redis: {url: \"redis://127.0.0.1:6379/0\"}}\n"
	if _, err := Parse("r.yaml", []byte(base+"keys: {backend: memory}\n")); err == nil || !strings.Contains(err.Error(), "keys.backend") {
		t.Errorf("memory keys with a redis store: %v, want an error naming keys.backend", err)
	}
	if _, err := Parse("r.yaml", []byte("issuer: https://broker.example.com\nkeys: {backend: redis, redis: {encryption_key_env: K}}\n")); err == nil || !strings.Contains(err.Error(), "needs store.redis") {
		t.Errorf("redis keys without a redis store: %v", err)
	}
	if _, err := Parse("r.yaml", []byte("issuer: https://broker.example.com\nlimits: {auth_failures: -1, window: -1s}\n")); err == nil ||
		!strings.Contains(err.Error(), "limits.auth_failures") || !strings.Contains(err.Error(), "limits.window") {
		t.Errorf("negative limits: %v", err)
	}
}

// TestAzureAuthorityMustBeHTTPS: an http authority, however its scheme is written, is refused at
// load (Microsoft's identity client refuses it at every exchange).
func TestAzureAuthorityMustBeHTTPS(t *testing.T) {
	for _, host := range []string{"http://login.example.com", "HTTP://127.0.0.1:8443", "Http://localhost:8443/"} {
		yaml := "issuer: https://broker.example.com\nintegrations:\n  - {id: az, space: root, azure: {tenant_id: 00000000-0000-0000-0000-000000000001, client_id: 00000000-0000-0000-0000-000000000002, authority_host: \"" + host + "\"}}\n"
		_, err := Parse("a.yaml", []byte(yaml))
		if err == nil || !strings.Contains(err.Error(), "integrations[0].azure.authority_host") || !strings.Contains(err.Error(), "https") {
			t.Errorf("authority_host %q: %v", host, err)
		}
	}
}

func TestAuditCheckpoint(t *testing.T) {
	cfg, err := Parse("a.yaml", []byte("issuer: https://broker.example.com\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cp := cfg.Audit.Checkpoint; cp.Every != DefaultCheckpointEvery || cp.Interval != DefaultCheckpointInterval {
		t.Errorf("defaults %+v", cp)
	}
	cfg, err = Parse("a.yaml", []byte("issuer: https://broker.example.com\naudit: {checkpoint: {every: 10, interval: 5s}}\n"))
	if err != nil || cfg.Audit.Checkpoint.Every != 10 || cfg.Audit.Checkpoint.Interval != 5*time.Second {
		t.Errorf("set: %+v, %v", cfg, err)
	}
	_, err = Parse("a.yaml", []byte("issuer: https://broker.example.com\naudit: {checkpoint: {every: -1, interval: 10ms}}\n"))
	if err == nil || !strings.Contains(err.Error(), "audit.checkpoint.every") || !strings.Contains(err.Error(), "audit.checkpoint.interval") {
		t.Errorf("bad values: %v, want both keys named", err)
	}
	if _, err := Parse("a.yaml", []byte("issuer: https://broker.example.com\naudit: {checkpoints: {}}\n")); err == nil || !strings.Contains(err.Error(), "audit.checkpoints") {
		t.Errorf("unknown key: %v", err)
	}
}
