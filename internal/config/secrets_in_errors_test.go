package config

import (
	"strings"
	"testing"
)

// TestErrorsNeverRepeatASecret: a configuration refused for a value that may be a secret (an
// API key's plaintext secret written where its digest belongs, a password or a token in a URL) names the
// field and the problem without repeating the secret, since the refusal reaches the log and,
// on a reload, the audit trail.
func TestErrorsNeverRepeatASecret(t *testing.T) {
	const secret = "hunter2-Plaintext"
	iss := "issuer: https://broker.example.com\n"
	for _, tc := range []struct {
		name, yaml, path string
	}{
		{"plaintext API key secret", iss + "roles:\n  - {id: r, actions: [run:read]}\napi_keys:\n  - {id: k, secret_sha256: " + secret + ", bindings: [{role: r, space: root}]}\n",
			"api_keys[0].secret_sha256"},
		{"password in a Vault address", withIntegration("    vault: {address: \"https://ci:" + secret + "@vault.example.com\", role: r}\n"),
			"integrations[0].vault.address"},
		{"password in a malformed STS endpoint", withIntegration("    aws: {role_arn: \"arn:aws:iam::123456789012:role/x\", sts_endpoint: \"https://ci:" + secret + "@sts.example.com:bad/\"}\n"),
			"integrations[0].aws.sts_endpoint"},
		// An upstream endpoint may have no query or fragment: refused, it is named without them.
		{"token in a Vault address's query", withIntegration("    vault: {address: \"https://vault.example.com/?token=" + secret + "\", role: r}\n"),
			"integrations[0].vault.address"},
		{"token in an STS endpoint's fragment", withIntegration("    aws: {role_arn: \"arn:aws:iam::123456789012:role/x\", sts_endpoint: \"https://sts.example.com/#" + secret + "\"}\n"),
			"integrations[0].aws.sts_endpoint"},
		{"token in a schemeless GCP endpoint's query", withIntegration(gcpAt("sts.example.com/?key=" + secret)),
			"integrations[0].gcp.sts_endpoint"},
		{"password in a webhook URL", iss + "audit:\n  sinks:\n    - webhook: {url: \"https://ci:" + secret + "@siem.example.com/in\"}\n",
			"audit.sinks[0].webhook.url"},
		// A webhook's path or query is often its credential (a collector's token in the URL).
		{"token in a webhook URL's query", iss + "audit:\n  sinks:\n    - webhook: {url: \"https://siem.example.com/in?token=" + secret + "\"}\n",
			"audit.sinks[0].webhook.url"},
		{"token in a plain http webhook URL's path", iss + "audit:\n  sinks:\n    - webhook: {url: \"http://siem.example.com/services/" + secret + "\"}\n",
			"audit.sinks[0].webhook.url"},
		{"token in a relative webhook URL", iss + "audit:\n  sinks:\n    - webhook: {url: \"siem/" + secret + "\"}\n",
			"audit.sinks[0].webhook.url"},
		{"webhook URL where its mapping belongs", iss + "audit:\n  sinks:\n    - webhook: \"https://siem.example.com/in?token=" + secret + "\"\n",
			"audit.sinks[0].webhook"},
		{"webhook URL where a sink belongs", iss + "audit:\n  sinks:\n    - \"https://siem.example.com/services/" + secret + "\"\n",
			"audit.sinks[0]"},
		// A single value where a block belongs is never quoted, wherever it is.
		{"Redis URL where store.redis belongs", iss + "store: {redis: 'rediss://:" + secret + "@redis.example.com:6379/0'}\n",
			"store.redis"},
		{"Redis URL where store belongs", iss + "store: 'rediss://:" + secret + "@redis.example.com:6379/0'\n",
			"store"},
		{"Vault address where an integration's vault belongs", iss + "integrations:\n  - {id: a, space: root, vault: 'https://ci:" + secret + "@vault.example.com'}\n",
			"integrations[0].vault"},
		{"Vault address where keys.vault_transit belongs", iss + "keys: {backend: vault-transit, vault_transit: 'https://ci:" + secret + "@vault.example.com'}\n",
			"keys.vault_transit"},
		{"a key where keys.redis belongs", iss + "store: {redis: {url: 'redis://127.0.0.1:6379/0'}}\nkeys: {backend: redis, redis: '" + secret + "'}\n",
			"keys.redis"},
		{"a key in keys.redis.encryption_key_env", iss + "store: {redis: {url: 'redis://127.0.0.1:6379/0'}}\nkeys: {backend: redis, redis: {encryption_key_env: '" + secret + "'}}\n",
			"keys.redis.encryption_key_env"},
		{"token in a malformed webhook URL", iss + "audit:\n  sinks:\n    - webhook: {url: \"https://siem.example.com:bad/" + secret + "\"}\n",
			"audit.sinks[0].webhook.url"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("t.yaml", []byte(tc.yaml))
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), tc.path) {
				t.Errorf("error %q does not name %s", err, tc.path)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error repeats the secret: %q", err)
			}
			for _, fe := range err.(Errors) {
				if strings.Contains(fe.Value, secret) || strings.Contains(fe.Msg, secret) {
					t.Errorf("field error %+v holds the secret", fe)
				}
			}
		})
	}
}

// TestAliasBombBounded: a small file whose aliases expand to a million nodes is refused with a
// bounded error: the decoder stops at its node cap, validation does not run on what it read,
// and at most maxProblems problems are listed, then how many more there were.
func TestAliasBombBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString("issuer: https://broker.example.com\nx-labels: &l [")
	for i := range 1000 {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("Bad_Label")
	}
	b.WriteString("]\nstacks:\n")
	for i := range 1000 {
		b.WriteString("  - {id: s" + strings.Repeat("x", i%5) + ", space: root, labels: *l}\n")
	}
	_, err := Parse("bomb.yaml", []byte(b.String()))
	if err == nil {
		t.Fatal("accepted")
	}
	if n := len(err.Error()); n > 64<<10 {
		t.Errorf("the error is %d bytes; want it bounded", n)
	}
	if errs, ok := err.(Errors); !ok || len(errs) > maxProblems+1 {
		t.Errorf("%d problems listed, want at most %d and a count of the rest", len(errs), maxProblems)
	}
}

// gcpAt is a gcp integration block whose sts_endpoint is endpoint.
func gcpAt(endpoint string) string {
	return "    gcp:\n" +
		"      workload_identity_provider: " +
		"projects/1/locations/global/workloadIdentityPools/pool/providers/prov\n" +
		"      service_account: sa@p.iam.gserviceaccount.com\n" +
		"      sts_endpoint: \"" + endpoint + "\"\n"
}
