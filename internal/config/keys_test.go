package config

import (
	"slices"
	"strings"
	"testing"
)

// TestRedisKeyBackendConfig checks the choice of a key backend with store.redis and the key
// encryption key of the redis backend.
func TestRedisKeyBackendConfig(t *testing.T) {
	const store = "store: {redis: {url: \"redis://127.0.0.1:6379/0\"}}\n"
	tests := []struct {
		name string
		src  string
		// path is the key path of the one expected problem; "" means the config is valid.
		path string
		// msg lists substrings of the problem's message.
		msg []string
	}{
		{"store.redis without keys", iss + store, "keys.backend",
			[]string{"required with store.redis", "redis", "keys.redis.encryption_key_file", "keys.redis.encryption_key_env", "file", "vault-transit"}},
		{"store.redis with keys but no backend", iss + store + "keys: {algorithm: ES256}\n", "keys.backend",
			[]string{"required with store.redis"}},
		{"redis backend without keys.redis", iss + store + "keys: {backend: redis}\n", "keys.redis",
			[]string{"required when keys.backend is redis", "encryption_key_file", "encryption_key_env"}},
		{"redis backend with an empty keys.redis", iss + store + "keys: {backend: redis, redis: {}}\n", "keys.redis",
			[]string{"required when keys.backend is redis"}},
		{"both key sources", iss + store + "keys: {backend: redis, redis: {encryption_key_file: /k, encryption_key_env: K}}\n",
			"keys.redis", []string{"exactly one"}},
		{"bad variable name", iss + store + "keys: {backend: redis, redis: {encryption_key_env: \"BROKER KEK\"}}\n",
			"keys.redis.encryption_key_env", []string{"not an environment variable name"}},
		{"keys.redis with the file backend", iss + store + "keys: {backend: file, dir: /k, redis: {encryption_key_env: K}}\n",
			"keys.redis", []string{"applies to keys.backend redis only"}},
		{"keys.vault_transit without a backend", iss + "keys: {vault_transit: {address: \"https://vault:8200\", mount: transit, key: k}}\n",
			"keys.vault_transit", []string{"applies to keys.backend vault-transit only", `not "memory"`}},
		{"keys.vault_transit with the file backend", iss + "keys: {backend: file, dir: /k, vault_transit: {address: \"https://vault:8200\", mount: transit, key: k}}\n",
			"keys.vault_transit", []string{"applies to keys.backend vault-transit only", `not "file"`}},
		{"keys.dir without a backend", iss + "keys: {dir: /var/lib/broker/keys}\n",
			"keys.dir", []string{"applies to keys.backend file only", `not "memory"`}},
		{"keys.dir with the redis backend", iss + store + "keys: {backend: redis, dir: /k, redis: {encryption_key_env: K}}\n",
			"keys.dir", []string{"applies to keys.backend file only", `not "redis"`}},
		{"unknown keys.redis key", iss + store + "keys: {backend: redis, redis: {encryption_key: abc}}\n",
			"keys.redis.encryption_key", []string{"unknown key"}},
		{"redis backend with a key file", iss + store + "keys: {backend: redis, redis: {encryption_key_file: /etc/broker/kek}}\n", "", nil},
		{"redis backend with a key variable", iss + store + "keys: {backend: redis, redis: {encryption_key_env: BROKER_KEK}}\n", "", nil},
		{"store.redis with a shared directory", iss + store + "keys: {backend: file, dir: /var/lib/broker/keys}\n", "", nil},
		{"store.redis with vault-transit", iss + store +
			"keys: {backend: vault-transit, vault_transit: {address: \"https://vault:8200\", mount: transit, key: k}}\n", "", nil},
		{"no store, no keys", iss, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse("k.yaml", []byte(tt.src))
			if tt.path == "" {
				if err != nil {
					t.Fatalf("Parse = %v, want no error", err)
				}
				if tt.src == iss && cfg.Keys.Backend != BackendMemory {
					t.Errorf("keys.backend without store.redis = %q, want memory", cfg.Keys.Backend)
				}
				return
			}
			errs, _ := err.(Errors)
			i := slices.IndexFunc(errs, func(fe *FieldError) bool { return fe.Path == tt.path })
			if i < 0 {
				t.Fatalf("Parse = %v, want a problem at %s", err, tt.path)
			}
			for _, m := range tt.msg {
				if !strings.Contains(errs[i].Error(), m) {
					t.Errorf("problem %q does not mention %q", errs[i], m)
				}
			}
		})
	}
}
