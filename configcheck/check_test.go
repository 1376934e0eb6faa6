package configcheck

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
	"testing"
)

// TestCheck: a valid file is summarised; an invalid one gets broker's own error, naming the
// key and line.
func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		want       Summary
		wantErr    []string
	}{
		{
			name: "shared store with the redis key backend",
			yaml: "issuer: https://broker.example.com\nlisten: 0.0.0.0:8080\nstore: {redis: {url: \"rediss://redis:6379/0\"}}\n" +
				"keys: {backend: redis, redis: {encryption_key_file: /run/broker/kek}}\nhttp: {trusted_proxies: [10.0.0.0/8]}\n",
			want: Summary{Issuer: "https://broker.example.com", Listen: "0.0.0.0:8080", SharedStore: true, KeyBackend: "redis",
				PrivateFiles: []string{"/run/broker/kek"}, TrustedProxies: []string{"10.0.0.0/8"}},
		},
		{
			name: "one replica in memory with tls",
			yaml: "issuer: https://broker.example.com\ntls: {cert_file: /c.pem, key_file: /k.pem}\n",
			want: Summary{Issuer: "https://broker.example.com", Listen: "127.0.0.1:8080", KeyBackend: "memory", PrivateFiles: []string{"/k.pem"}},
		},
		{
			name: "audit sinks",
			yaml: "issuer: https://broker.example.com\naudit:\n  sinks:\n" +
				"    - {name: siem, webhook: {url: \"https://siem.example.com/in\", secret_file: /run/broker/hook}}\n" +
				"    - {file: {path: /var/log/broker/audit.jsonl}}\n",
			want: Summary{Issuer: "https://broker.example.com", Listen: "127.0.0.1:8080", KeyBackend: "memory",
				PrivateFiles: []string{"/run/broker/hook"},
				AuditSinks: []AuditSink{
					{Name: "siem", Kind: "webhook", Target: "https://siem.example.com/in", SecretFile: "/run/broker/hook"},
					{Name: fileSinkName("/var/log/broker/audit.jsonl"), Kind: "file", Target: "/var/log/broker/audit.jsonl"},
				}},
		},
		{
			name:    "audit sink with both kinds",
			yaml:    "issuer: https://broker.example.com\naudit: {sinks: [{webhook: {url: \"https://h.example.com\"}, file: {path: /a}}]}\n",
			wantErr: []string{"audit.sinks[0]", "exactly one"},
		},
		{
			name:    "store.redis without a key backend",
			yaml:    "issuer: https://broker.example.com\nstore: {redis: {url: \"rediss://redis:6379/0\"}}\n",
			wantErr: []string{"keys.backend", "required with store.redis"},
		},
		{
			name:    "plain redis off loopback",
			yaml:    "issuer: https://broker.example.com\nstore: {redis: {url: \"redis://redis:6379/0\"}}\nkeys: {backend: file, dir: /k}\n",
			wantErr: []string{"broker.yaml:2", "store.redis.url", "plain text"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Check("broker.yaml", []byte(tc.yaml))
			if tc.wantErr != nil {
				if err == nil {
					t.Fatalf("Check accepted it: %+v", got)
				}
				for _, w := range tc.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("Check = %v, want it to say %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("Check: %v", err)
			}
			if got.Issuer != tc.want.Issuer || got.Listen != tc.want.Listen || got.SharedStore != tc.want.SharedStore ||
				got.KeyBackend != tc.want.KeyBackend || !slices.Equal(got.PrivateFiles, tc.want.PrivateFiles) ||
				!slices.Equal(got.TrustedProxies, tc.want.TrustedProxies) || !slices.Equal(got.AuditSinks, tc.want.AuditSinks) {
				t.Errorf("Check = %+v, want %+v", got, tc.want)
			}
		})
	}
}

// fileSinkName is the name broker derives for a file sink without one: "file-" and the first
// 8 hex digits of the SHA-256 of its path.
func fileSinkName(path string) string {
	sum := sha256.Sum256([]byte(path))
	return "file-" + hex.EncodeToString(sum[:4])
}
