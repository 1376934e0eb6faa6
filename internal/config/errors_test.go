package config

import (
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

func equal(a, b any) bool { return reflect.DeepEqual(a, b) }

func itoa(i int) string { return strconv.Itoa(i) }

const iss = "issuer: https://broker.example.com\n"

// base declares spaces prod (inherits root) and dev (does not), a stack in each, and
// integrations: aws-root in root, aws-prod and aws-prod2 in prod.
const base = iss + `spaces:
  - id: prod
    parent: root
    inherit: true
  - id: dev
    parent: root
stacks:
  - id: vpc-prod
    space: prod
  - id: app-dev
    space: dev
integrations:
  - id: aws-root
    space: root
    aws: {role_arn: "arn:aws:iam::123456789012:role/root"}
  - id: aws-prod
    space: prod
    aws: {role_arn: "arn:aws:iam::123456789012:role/prod"}
  - id: aws-prod2
    space: prod
    aws: {role_arn: "arn:aws:iam::123456789012:role/prod2"}
`

// withIntegration is iss plus a root-space integration whose body is given.
func withIntegration(body string) string {
	return iss + "integrations:\n  - id: it\n    space: root\n" + body
}

const roles = "roles:\n  - id: r\n    actions: [run:read]\n"

const sha = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

func TestParseErrors(t *testing.T) {
	cases := []struct {
		name string
		src  string
		path string
		// marker is a substring of the offending line; "" means the line is unknown (0).
		marker string
		// value must appear in the message, when not empty.
		value string
		msg   string
		// count is the number of problems expected; 0 means 1.
		count int
	}{
		// decoding
		{"syntax error", iss + "listen: [\n", "", "", "", "invalid YAML", 0},
		{"unknown top-level key", iss + "issuerr: x\n", "issuerr", "issuerr", "", "unknown key", 0},
		{"unknown nested key", iss + "keys:\n  algoritm: RS256\n", "keys.algoritm", "algoritm", "", "unknown key", 0},
		{"unknown deep key", withIntegration("    aws:\n      role_arn: arn:aws:iam::123456789012:role/x\n      regoin: eu-west-1\n"),
			"integrations[0].aws.regoin", "regoin", "", "unknown key", 0},
		{"mapping for string", iss + "listen:\n  host: x\n", "listen", "listen:", "", "expected a string, got a mapping", 0},
		{"string for bool", iss + "spaces:\n  - {id: a, parent: root, inherit: yes}\n", "spaces[0].inherit", "inherit", "yes", `expected true or false, got "yes"`, 0},
		{"string for list", iss + "roles:\n  - id: r\n    actions: run:read\n", "roles[0].actions", "actions", "", "expected a list, got a single value (not shown", 0},
		{"list for document", "- issuer: https://b.example.com\n", "", "issuer", "", "expected a mapping, got a list", 0},
		{"scalar for struct", iss + "tokens: 1h\n", "tokens", "tokens", "", "expected a mapping, got a single value (not shown", 0},
		// A count whose 0 stands for its default is refused when 0 is written out, as durations are.
		{"audit.memory.retain 0", iss + "audit: {memory: {retain: 0}}\n", "audit.memory.retain", "retain", "", "0 must be at least 1 (leave the key out for the default)", 0},
		{"audit.checkpoint.every 0", iss + "audit: {checkpoint: {every: 0}}\n", "audit.checkpoint.every", "every", "", "must be at least 1", 0},
		{"audit sink max_batch 0", iss + "audit: {sinks: [{file: {path: /var/log/a.jsonl}, max_batch: 0}]}\n", "audit.sinks[0].max_batch", "max_batch", "", "must be at least 1", 0},
		{"limits.auth_failures 0", iss + "limits: {auth_failures: 0}\n", "limits.auth_failures", "auth_failures", "", "must be at least 1", 0},
		// An empty block is a block with nothing in it, not an absent key: the commented-out
		// keys are asked for instead of serving plain HTTP or keeping runs in one replica.
		{"empty tls block", iss + "tls:\n  # cert_file: /etc/broker/tls.crt\n  # key_file: /etc/broker/tls.key\n", "tls.cert_file", "tls:", "", "required when tls is set", 2},
		{"empty store.redis block", iss + "store:\n  redis:\n    # url: rediss://redis.internal:6379/0\n", "store.redis.url", "redis:", "", "required when store.redis is set", 2},
		{"bad duration", iss + "tokens:\n  ttl: abc\n", "tokens.ttl", "ttl", `"abc"`, "invalid duration", 0},
		{"duration without unit", iss + "runs:\n  ttl: 3600\n", "runs.ttl", "ttl", `"3600"`, "invalid duration", 0},
		{"negative duration", iss + "runs:\n  ttl: -1h\n", "runs.ttl", "ttl", `"-1h"`, "must not be negative", 0},
		{"zero duration", iss + "tokens:\n  ttl: 0s\n", "tokens.ttl", "ttl", `"0s"`, "must be greater than zero (leave the key out", 0},
		{"token lifetime under a second", iss + "tokens:\n  ttl: 500ms\n", "tokens.ttl", "ttl", `"500ms"`, "must be a whole number of seconds", 0},
		{"token lifetime of a second and a half", iss + "tokens:\n  ttl: 1500ms\n", "tokens.ttl", "ttl", `"1.5s"`, "must be a whole number of seconds", 0},
		{"zero duration without unit", iss + "keys:\n  rotation: {prepublish: 0}\n", "keys.rotation.prepublish", "prepublish", `"0"`, "must be greater than zero", 0},
		{"zero integration timeout", iss + "integrations:\n  - {id: a, space: root, timeout: 0ms, vault: {address: \"https://v.example.com\", role: r}}\n", "integrations[0].timeout", "timeout", `"0ms"`, "must be greater than zero", 0},
		{"duplicate key", iss + "listen: 127.0.0.1:1\nlisten: 127.0.0.1:2\n", "listen", "127.0.0.1:2", "", "duplicate key (first at line 2)", 0},

		// issuer, listen, tls, store
		{"issuer missing", "listen: 127.0.0.1:8080\n", "issuer", "", "", "required", 0},
		{"issuer relative", "issuer: broker.example.com\n", "issuer", "issuer", `"broker.example.com"`, "absolute URL", 0},
		{"issuer query", "issuer: https://b.example.com?x=1\n", "issuer", "issuer", `"https://b.example.com?x=1"`, "query or fragment", 0},
		{"issuer fragment", "issuer: https://b.example.com#x\n", "issuer", "issuer", "", "query or fragment", 0},
		{"issuer plain http", "issuer: http://broker.example.com\n", "issuer", "issuer", `"http://broker.example.com"`, "must use https", 0},
		{"issuer host not ASCII", "issuer: https://brøker.example\ntokens: {default_audience: aud}\n", "issuer", "issuer", `"https://brøker.example"`, "must name its host as a DNS name", 0},
		{"issuer host with a sub-delimiter", "issuer: https://a!b.example\n", "issuer", "issuer", `"https://a!b.example"`, "must name its host as a DNS name", 0},
		{"issuer IPv6 host with a zone", "issuer: https://[fe80::1%25eth0]\n", "issuer", "issuer", "", "must name its host as a DNS name", 0},
		{"issuer trailing slash", "issuer: https://b.example.com/\n", "issuer", "issuer", `"https://b.example.com/"`, "must not end with a slash", 0},
		{"listen not host:port", iss + "listen: 8080\n", "listen", "listen", `"8080"`, "not host:port", 0},
		{"listen bad port", iss + "listen: 127.0.0.1:99999\n", "listen", "listen", `"99999"`, "invalid port", 0},
		{"tls without key", iss + "tls:\n  cert_file: /c\n", "tls.key_file", "tls:", "", "required when tls is set", 0},
		{"redis without url", iss + "store:\n  redis: {}\nkeys: {backend: file, dir: /k}\n", "store.redis.url", "redis:", "", "required", 0},
		{"redis bad scheme", iss + "store:\n  redis:\n    url: http://x:6379\nkeys: {backend: file, dir: /k}\n", "store.redis.url", "url:", `"http"`, "redis:// or rediss://", 0},

		// http.trusted_proxies
		{"trusted proxy hostname", iss + "http:\n  trusted_proxies:\n    - 10.0.0.0/8\n    - lb.internal\n",
			"http.trusted_proxies[1]", "lb.internal", `"lb.internal"`, "is not an IP address or CIDR", 0},
		{"trusted proxy host bits", iss + "http:\n  trusted_proxies: [10.0.0.1/8]\n",
			"http.trusted_proxies[0]", "trusted_proxies", `"10.0.0.1/8"`, "host bits set (did you mean 10.0.0.0/8?)", 0},
		{"trusted proxy everyone", iss + "http:\n  trusted_proxies:\n    - ::/0\n    - 0.0.0.0/0\n",
			"http.trusted_proxies[0]", "::/0", `"::/0"`, "from every client", 2},
		{"trusted proxy zone", iss + "http:\n  trusted_proxies: [\"fe80::1%eth0\"]\n",
			"http.trusted_proxies[0]", "trusted_proxies", "", "IPv6 zone", 0},
		{"trusted proxy mapped IPv4", iss + "http:\n  trusted_proxies: [\"::ffff:10.0.0.1\"]\n",
			"http.trusted_proxies[0]", "trusted_proxies", "", "dotted form: 10.0.0.1", 0},
		{"trusted proxy bad prefix length", iss + "http:\n  trusted_proxies: [10.0.0.0/33]\n",
			"http.trusted_proxies[0]", "trusted_proxies", `"10.0.0.0/33"`, "is not an IP address or CIDR", 0},

		// keys, tokens
		{"unknown backend", iss + "keys:\n  backend: disk\n", "keys.backend", "backend", `"disk"`, "unknown backend", 0},
		{"file backend without dir", iss + "keys:\n  backend: file\n", "keys.dir", "keys:", "", "required when keys.backend is file", 0},
		{"vault-transit without key", iss + "keys:\n  backend: vault-transit\n  vault_transit: {address: https://v:8200, mount: transit}\n",
			"keys.vault_transit.key", "vault_transit", "", "required", 0},
		{"vault-transit missing", iss + "keys:\n  backend: vault-transit\n", "keys.vault_transit", "keys:", "", "required", 0},
		{"vault-transit key with a slash", iss + "keys:\n  backend: vault-transit\n  vault_transit: {address: https://v:8200, mount: transit, key: a/b}\n",
			"keys.vault_transit.key", "vault_transit", `"a/b"`, "is not a Transit key name", 0},
		{"vault-transit namespace with a space", iss + "keys:\n  backend: vault-transit\n  vault_transit: {address: https://v:8200, mount: transit, key: k, namespace: \"a b\"}\n",
			"keys.vault_transit.namespace", "vault_transit", `"a b"`, "is not a namespace path", 0},
		{"unknown algorithm", iss + "keys:\n  algorithm: HS256\n", "keys.algorithm", "algorithm", `"HS256"`, "want RS256 or ES256", 0},
		{"prepublish not under period", iss + "keys:\n  rotation:\n    period: 24h\n    prepublish: 24h\n",
			"keys.rotation.prepublish", "prepublish", "24h0m0s", "must be shorter than the rotation period", 0},
		{"retain of many periods", iss + "keys:\n  rotation:\n    period: 2s\n    prepublish: 1s\n    retain: 1h\n",
			"keys.rotation.retain", "retain", "1h0m0s", "more than 16 rotation periods", 0},
		{"retain under token ttl", iss + "keys:\n  rotation:\n    retain: 30m\ntokens:\n  ttl: 1h\n",
			"keys.rotation.retain", "retain", "30m0s", "at least tokens.ttl", 0},

		// ids
		{"bad id", iss + "stacks:\n  - id: VPC.prod\n    space: root\n", "stacks[0].id", "VPC.prod", `"VPC.prod"`, "must match", 0},
		{"missing id", iss + "roles:\n  - actions: [run:read]\n", "roles[0].id", "actions", "", "required", 0},
		{"duplicate id", iss + "stacks:\n  - {id: s, space: root}\n  - {id: s, space: root} # second\n", "stacks[1].id", "# second",
			`"s"`, "duplicate id \"s\" (first at stacks[0])", 0},

		// spaces
		{"root with parent", iss + "spaces:\n  - id: root\n    parent: prod\n  - {id: prod, parent: root}\n", "spaces[0].parent", "parent: prod", `"prod"`, "root space cannot have a parent", 2},
		{"space without parent", iss + "spaces:\n  - id: orphan\n", "spaces[0].parent", "orphan", "", "every space but root has a parent", 0},
		{"missing parent", iss + "spaces:\n  - {id: a, parent: root}\n  - {id: b, parent: root}\n  - id: c\n    parent: prdo\n",
			"spaces[2].parent", "prdo", `"prdo"`, `space "prdo" does not exist`, 0},
		{"parent cycle", iss + "spaces:\n  - {id: a, parent: b}\n  - {id: b, parent: a}\n", "spaces[0].parent", "id: a", "", "parent cycle: a -> b -> a", 0},
		{"unknown placeholder", iss + "spaces:\n  - id: root\n    subject_template: \"s:{spaceId}:{stackId}\"\n",
			"spaces[0].subject_template", "subject_template", `"s:{spaceId}:{stackId}"`, "unknown placeholder {stackId}", 0},
		{"unbalanced brace", iss + "spaces:\n  - id: root\n    subject_template: \"s:{scope\"\n",
			"spaces[0].subject_template", "subject_template", `"s:{scope"`, "unbalanced '{'", 0},
		{"template without scope", iss + "spaces:\n  - id: root\n    subject_template: \"repo:{spacePath}:{callerId}\"\n",
			"spaces[0].subject_template", "subject_template", `"repo:{spacePath}:{callerId}"`, "missing {scope}", 0},
		{"template without separator", iss + "spaces:\n  - id: root\n    subject_template: \"{spaceId}-{callerId}-{scope}\"\n",
			"spaces[0].subject_template", "subject_template", `"{spaceId}-{callerId}-{scope}"`,
			`separator "-" between {spaceId} and {callerId} must hold ':' or '/'`, 2},
		{"template meeting another space's", iss + "spaces:\n  - {id: prod, parent: root}\n  - id: dev\n    parent: root\n    subject_template: \"space:prod:stack:vpc-{callerId}:run_type:{runType}:scope:{scope}\"\n",
			"spaces[1].subject_template", "space:prod:stack:vpc-", "", `of spaces[0] also gives, or that its run id wildcard matches (e.g. "space:prod:stack:vpc-`, 0},
		{"wildcard in template", iss + "spaces:\n  - id: root\n    subject_template: \"s:{callerId}:*:{scope}\"\n",
			"spaces[0].subject_template", "subject_template", `"s:{callerId}:*:{scope}"`, "literal text may not hold the wildcard '*'", 0},

		// stacks
		{"stack space missing", iss + "stacks:\n  - id: s\n    space: prdo\n", "stacks[0].space", "prdo", `"prdo"`, `space "prdo" does not exist`, 0},

		// integrations
		{"integration space missing", iss + "integrations:\n  - id: it\n    space: nope\n    vault: {address: https://v, role: r}\n",
			"integrations[0].space", "nope", `"nope"`, `space "nope" does not exist`, 0},
		{"no provider", withIntegration("    audience: x\n"), "integrations[0]", "id: it", `"it"`, "needs one of aws, gcp, azure or vault", 0},
		{"two providers", withIntegration("    vault: {address: https://v, role: r}\n    azure: {tenant_id: 00000000-0000-0000-0000-000000000001, client_id: 00000000-0000-0000-0000-000000000002}\n"),
			"integrations[0]", "id: it", "", "sets azure and vault; exactly one", 0},
		{"aws bad mode", withIntegration("    aws: {mode: oidc, role_arn: \"arn:aws:iam::123456789012:role/x\"}\n"),
			"integrations[0].aws.mode", "oidc", `"oidc"`, "unknown mode", 0},
		{"aws duration under a second", withIntegration("    aws: {role_arn: \"arn:aws:iam::123456789012:role/x\"}\n    duration: 500ms\n"),
			"integrations[0].duration", "duration", `"500ms"`, "15m to 12h", 0},
		{"aws duration under STS's minimum", withIntegration("    aws: {role_arn: \"arn:aws:iam::123456789012:role/x\"}\n    duration: 10m\n"),
			"integrations[0].duration", "duration", `"10m0s"`, "15m to 12h", 0},
		{"aws duration past STS's maximum", withIntegration("    aws: {role_arn: \"arn:aws:iam::123456789012:role/x\"}\n    duration: 13h\n"),
			"integrations[0].duration", "duration", `"13h0m0s"`, "15m to 12h", 0},
		{"gcp duration past Google's maximum", withIntegration("    gcp: {workload_identity_provider: projects/1/locations/global/workloadIdentityPools/pool/providers/prov, service_account: a@b.iam.gserviceaccount.com}\n    duration: 100h\n"),
			"integrations[0].duration", "duration", `"100h0m0s"`, "whole seconds from 60s up to 12h", 0},
		{"gcp duration under a usable token's", withIntegration("    gcp: {workload_identity_provider: projects/1/locations/global/workloadIdentityPools/pool/providers/prov, service_account: a@b.iam.gserviceaccount.com}\n    duration: 10s\n"),
			"integrations[0].duration", "duration", `"10s"`, "whole seconds from 60s up to 12h", 0},
		{"gcp duration with a fraction of a second", withIntegration("    gcp: {workload_identity_provider: projects/1/locations/global/workloadIdentityPools/pool/providers/prov, service_account: a@b.iam.gserviceaccount.com}\n    duration: 1500ms\n"),
			"integrations[0].duration", "duration", `"1.5s"`, "whole seconds from 60s up to 12h", 0},
		{"vault duration under a second", withIntegration("    vault: {address: https://v, role: r}\n    duration: 500ms\n"),
			"integrations[0].duration", "duration", `"500ms"`, "whole seconds, at least 60s", 0},
		{"vault duration under a usable token's", withIntegration("    vault: {address: https://v, role: r}\n    duration: 10s\n"),
			"integrations[0].duration", "duration", `"10s"`, "whole seconds, at least 60s", 0},
		{"vault duration with a fraction of a second", withIntegration("    vault: {address: https://v, role: r}\n    duration: 60500ms\n"),
			"integrations[0].duration", "duration", `"1m0.5s"`, "whole seconds, at least 60s", 0},
		{"vault duration that leaves less than a usable token's when it arrives", withIntegration("    vault: {address: https://v, role: r}\n    duration: 30s\n"),
			"integrations[0].duration", "duration", `"30s"`, "whole seconds, at least 60s", 0},
		{"gcp duration that leaves less than a usable token's when it arrives", withIntegration("    gcp: {workload_identity_provider: projects/1/locations/global/workloadIdentityPools/pool/providers/prov, service_account: a@b.iam.gserviceaccount.com}\n    duration: 45s\n"),
			"integrations[0].duration", "duration", `"45s"`, "whole seconds from 60s up to 12h", 0},
		{"aws role in a partition without a known region", withIntegration("    aws: {role_arn: \"arn:aws-iso:iam::123456789012:role/x\"}\n"),
			"integrations[0].aws.region", "role_arn", `"arn:aws-iso:iam::123456789012:role/x"`, "required: the partition", 0},
		{"aws assume-role with an IPv6 issuer", "issuer: https://[2001:db8::1]:8443\nspaces:\n  - id: root\nintegrations:\n  - id: it\n    space: root\n    aws: {mode: assume-role, role_arn: \"arn:aws:iam::123456789012:role/x\"}\n",
			"integrations[0].aws.mode", "mode", `"[2001:db8::1]:8443"`, "assume-role needs an issuer named by a host name", 0},
		{"aws role_arn missing", withIntegration("    aws:\n      mode: assume-role\n"), "integrations[0].aws.role_arn", "aws:", "", "required", 0},
		{"aws role_arn malformed", withIntegration("    aws:\n      role_arn: arn:aws:iam::1234:role/x\n"),
			"integrations[0].aws.role_arn", "role_arn", `"arn:aws:iam::1234:role/x"`, "not an IAM role ARN", 0},
		{"aws sts_endpoint relative", withIntegration("    aws:\n      role_arn: arn:aws:iam::123456789012:role/x\n      sts_endpoint: sts.local\n"),
			"integrations[0].aws.sts_endpoint", "sts_endpoint", `"sts.local"`, "absolute http or https URL", 0},
		{"gcp provider malformed", withIntegration("    gcp:\n      workload_identity_provider: projects/p/locations/global/workloadIdentityPools/pool/providers/prov\n      service_account: a@b.iam.gserviceaccount.com\n"),
			"integrations[0].gcp.workload_identity_provider", "workload_identity_provider", "projects/p/", "not a provider resource name", 0},
		{"gcp provider id Google refuses", withIntegration("    gcp:\n      workload_identity_provider: projects/1/locations/global/workloadIdentityPools/gcp-pool/providers/prov\n      service_account: a@b.iam.gserviceaccount.com\n"),
			"integrations[0].gcp.workload_identity_provider", "workload_identity_provider", "gcp-pool", `ids of 4 to 32 lowercase letters, digits and hyphens, not starting with "gcp-")`, 0},
		{"gcp service account not email", withIntegration("    gcp:\n      workload_identity_provider: projects/1/locations/global/workloadIdentityPools/pool/providers/prov\n      service_account: terraform\n"),
			"integrations[0].gcp.service_account", "service_account", `"terraform"`, "not a service account email", 0},
		{"gcp endpoint bad", withIntegration("    gcp:\n      workload_identity_provider: projects/1/locations/global/workloadIdentityPools/pool/providers/prov\n      service_account: a@b.c\n      iam_credentials_endpoint: ftp://x\n"),
			"integrations[0].gcp.iam_credentials_endpoint", "ftp://x", `"ftp://x"`, "absolute http or https URL", 0},
		{"azure tenant missing", withIntegration("    azure:\n      client_id: 00000000-0000-0000-0000-000000000002\n"), "integrations[0].azure.tenant_id", "azure:", "", "required", 0},
		{"azure authority bad", withIntegration("    azure:\n      tenant_id: 00000000-0000-0000-0000-000000000001\n      client_id: 00000000-0000-0000-0000-000000000002\n      authority_host: login.local\n"),
			"integrations[0].azure.authority_host", "authority_host", `"login.local"`, "absolute http or https URL", 0},
		{"azure tenant with a slash", withIntegration("    azure:\n      tenant_id: contoso/evil\n      client_id: 00000000-0000-0000-0000-000000000002\n"),
			"integrations[0].azure.tenant_id", "tenant_id", `"contoso/evil"`, "not a tenant id", 0},
		{"azure tenant climbing the path", withIntegration("    azure:\n      tenant_id: \"..\"\n      client_id: 00000000-0000-0000-0000-000000000002\n"),
			"integrations[0].azure.tenant_id", "tenant_id", `".."`, "not a tenant id", 0},
		{"vault mount climbing the path", withIntegration("    vault:\n      address: https://v:8200\n      role: r\n      mount: ../../sys/wrapping\n"),
			"integrations[0].vault.mount", "mount", `"../../sys/wrapping"`, "not a mount path", 0},
		{"vault mount with a dot segment", withIntegration("    vault:\n      address: https://v:8200\n      role: r\n      mount: jwt/./x\n"),
			"integrations[0].vault.mount", "mount", `"jwt/./x"`, "not a mount path", 0},
		{"vault namespace climbing the path", withIntegration("    vault:\n      address: https://v:8200\n      role: r\n      namespace: a/../b\n"),
			"integrations[0].vault.namespace", "namespace", `"a/../b"`, "not a namespace path", 0},
		{"vault role with shell words", withIntegration("    vault:\n      address: https://v:8200\n      role: \"x @-; curl evil | sh\"\n"),
			"integrations[0].vault.role", "role", `"x @-; curl evil | sh"`, "not a Vault role name", 0},
		{"vault role missing", withIntegration("    vault:\n      address: https://v:8200\n"), "integrations[0].vault.role", "vault:", "", "required", 0},
		{"vault address bad", withIntegration("    vault:\n      address: vault:8200\n      role: r\n"),
			"integrations[0].vault.address", "address", `"vault:8200"`, "absolute http or https URL", 0},

		// attachments
		{"attachment stack missing", base + "attachments:\n  - {stack: nope, integration: aws-prod, read: true}\n",
			"attachments[0].stack", "stack: nope", `"nope"`, `stack "nope" does not exist`, 0},
		{"attachment integration missing", base + "attachments:\n  - {stack: vpc-prod, integration: nope, read: true}\n",
			"attachments[0].integration", "integration: nope", `"nope"`, `integration "nope" does not exist`, 0},
		{"attachment neither read nor write", base + "attachments:\n  - {stack: vpc-prod, integration: aws-prod}\n",
			"attachments[0]", "integration: aws-prod}", "", "must set read: true, write: true or both", 0},
		{"attachment not usable", base + "attachments:\n  - {stack: app-dev, integration: aws-root, read: true}\n",
			"attachments[0].integration", "aws-root, read", `"aws-root"`, `cannot use (usable spaces: dev)`, 0},
		{"attachment sibling space", base + "attachments:\n  - {stack: app-dev, integration: aws-prod, read: true}\n",
			"attachments[0].integration", "aws-prod, read", `"aws-prod"`, "cannot use", 0},
		{"two read attachments per provider", base + "attachments:\n  - {stack: vpc-prod, integration: aws-prod, read: true, write: true}\n  - {stack: vpc-prod, integration: aws-root, read: true}\n",
			"attachments[1].read", "integration: aws-root, read", "", `already has a read attachment for aws (attachments[0], integration "aws-prod")`, 0},
		{"same pair twice", base + "attachments:\n  - {stack: vpc-prod, integration: aws-prod, read: true}\n  - {stack: vpc-prod, integration: aws-prod, write: true}\n",
			"attachments[1].integration", "write: true}", `"aws-prod"`, "already attached to stack \"vpc-prod\" at attachments[0]", 0},

		// roles, api keys
		{"unknown action", iss + "roles:\n  - id: r\n    actions:\n      - run:read\n      - run:delete\n",
			"roles[0].actions[1]", "run:delete", `"run:delete"`, "unknown action", 0},
		{"no actions", iss + "roles:\n  - id: r\n    actions: []\n", "roles[0].actions", "actions", "", "at least one action", 0},
		{"bad secret hash", iss + roles + "api_keys:\n  - id: k\n    secret_sha256: ABC\n    bindings: [{role: r, space: root}]\n",
			"api_keys[0].secret_sha256", "ABC", "", "64 lowercase hex", 0},
		{"binding role missing", iss + roles + "api_keys:\n  - id: k\n    secret_sha256: " + sha + "\n    bindings: [{role: admin, space: root}]\n",
			"api_keys[0].bindings[0].role", "bindings", `"admin"`, `role "admin" does not exist`, 0},
		{"binding space missing", iss + roles + "api_keys:\n  - id: k\n    secret_sha256: " + sha + "\n    bindings:\n      - role: r\n        space: prdo\n",
			"api_keys[0].bindings[0].space", "prdo", `"prdo"`, `space "prdo" does not exist`, 0},
		{"no bindings", iss + roles + "api_keys:\n  - id: k\n    secret_sha256: " + sha + "\n",
			"api_keys[0].bindings", "- id: k", "", "at least one binding", 0},
		{"two keys with one secret", iss + roles + "api_keys:\n  - {id: k, secret_sha256: " + sha + ", bindings: [{role: r, space: root}]}\n" +
			"  - {id: k2, secret_sha256: " + sha + ", bindings: [{role: r, space: root}]}\n",
			"api_keys[1].secret_sha256", "id: k2", "", "same secret as api_keys[0]", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("t.yaml", []byte(tc.src))
			var errs Errors
			if !errors.As(err, &errs) {
				t.Fatalf("Parse() = %v, want Errors", err)
			}
			want := tc.count
			if want == 0 {
				want = 1
			}
			if len(errs) != want {
				t.Errorf("got %d problems, want %d:\n%v", len(errs), want, err)
			}
			line := 0
			if tc.marker != "" {
				line = lineOf(tc.src, tc.marker)
				if line == 0 {
					t.Fatalf("marker %q not in source", tc.marker)
				}
			}
			if tc.name == "syntax error" {
				line = 2 // reported by the YAML parser
			}
			prefix := "t.yaml: "
			if line > 0 {
				prefix = "t.yaml:" + itoa(line) + ": "
			}
			if tc.path != "" {
				prefix += tc.path + ": "
			}
			for _, fe := range errs {
				s := fe.Error()
				if fe.Path == tc.path && strings.HasPrefix(s, prefix) && strings.Contains(fe.Msg, tc.msg) &&
					strings.Contains(s, tc.value) {
					return
				}
			}
			t.Errorf("no problem starting %q with message containing %q and value %q in:\n%v", prefix, tc.msg, tc.value, err)
		})
	}
}

func TestParseReportsEveryProblem(t *testing.T) {
	src := `issuer: http://broker.example.com/
listen: nowhere
keys:
  algoritm: RS256
  rotation:
    period: abc
spaces:
  - {id: prod, parent: rooot}
stacks:
  - {id: Bad_Id, space: prod}
  - {id: s2, space: nope}
roles:
  - {id: r, actions: [run:fly]}
`
	_, err := Parse("broker.yaml", []byte(src))
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("Parse() = %v, want Errors", err)
	}
	want := []string{
		"broker.yaml:1: issuer: ",
		"broker.yaml:2: listen: ",
		"broker.yaml:4: keys.algoritm: unknown key",
		"broker.yaml:6: keys.rotation.period: invalid duration \"abc\"",
		"broker.yaml:8: spaces[0].parent: space \"rooot\" does not exist",
		"broker.yaml:10: stacks[0].id: id \"Bad_Id\"",
		"broker.yaml:11: stacks[1].space: space \"nope\" does not exist",
		"broker.yaml:13: roles[0].actions[0]: unknown action \"run:fly\"",
	}
	if len(errs) != len(want) {
		t.Errorf("got %d problems, want %d:\n%v", len(errs), len(want), err)
	}
	lines := strings.Split(err.Error(), "\n")
	for _, w := range want {
		found := false
		for _, l := range lines {
			found = found || strings.HasPrefix(l, w)
		}
		if !found {
			t.Errorf("missing problem %q in:\n%v", w, err)
		}
	}
}

func TestParseValid(t *testing.T) {
	cases := []struct {
		name  string
		src   string
		check func(*Config) bool
	}{
		{"minimal", iss, func(c *Config) bool {
			return len(c.Spaces) == 1 && c.Spaces[0].ID == RootSpace && c.Tokens.DefaultAudience == "broker.example.com" &&
				c.Keys.Backend == BackendMemory && c.Runs.TTL == 3*time.Hour && c.HTTP.ShutdownTimeout == 30*time.Second
		}},
		{"empty document is only missing an issuer", "", nil},
		{"http localhost", "issuer: http://localhost:8080\n", func(c *Config) bool { return c.Tokens.DefaultAudience == "localhost:8080" }},
		{"http 127.0.0.2", "issuer: http://127.0.0.2\n", nil},
		{"http ::1", "issuer: http://[::1]:8080/broker\n", func(c *Config) bool { return c.Tokens.DefaultAudience == "[::1]:8080" }},
		{"issuer with path", "issuer: https://example.com/oidc\n", nil},
		{"all placeholders", iss + "spaces:\n  - id: root\n    subject_template: \"{spaceId}:{spacePath}:{callerType}/{callerId}/{runId}/{runType}/{runPhase}/{scope}\"\n", nil},
		{"null values are zero", iss + "store:\nspaces:\n", func(c *Config) bool { return c.Store.Redis == nil && len(c.Spaces) == 1 }},
		{"vault mount default", withIntegration("    vault: {address: \"https://v:8200\", role: r}\n"), func(c *Config) bool {
			return c.Integrations[0].Vault.Mount == "jwt" && c.Integrations[0].Timeout == 10*time.Second
		}},
		{"aws assume-role in aws-us-gov", withIntegration("    aws: {mode: assume-role, role_arn: \"arn:aws-us-gov:iam::123456789012:role/path/x\"}\n    duration: 15m\n"),
			func(c *Config) bool { return c.Integrations[0].Duration == 15*time.Minute }},
		{"aliases", iss + "spaces:\n  - {id: &a a, parent: root}\nstacks:\n  - {id: s, space: *a}\n",
			func(c *Config) bool { return c.Stacks[0].Space == "a" }},
		{"vault-transit backend", iss + "keys:\n  backend: vault-transit\n  vault_transit: {address: \"https://v:8200\", mount: transit, key: k}\n", nil},
		{"vault-transit namespace", iss + "keys:\n  backend: vault-transit\n  vault_transit: {address: \"https://v:8200\", mount: team/transit, key: broker-oidc, namespace: eng/platform}\n",
			func(c *Config) bool { return c.Keys.VaultTransit.Namespace == "eng/platform" }},
		{"inherited attachment", base + "attachments:\n  - {stack: vpc-prod, integration: aws-root, read: true}\n  - {stack: vpc-prod, integration: aws-prod, write: true}\n", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse("t.yaml", []byte(tc.src))
			if tc.src == "" {
				if err == nil || err.Error() != "t.yaml: issuer: required (the https URL that is the iss claim)" {
					t.Fatalf("Parse(empty) = %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(): %v", err)
			}
			if tc.check != nil && !tc.check(c) {
				t.Errorf("unexpected config: %+v", c)
			}
		})
	}
}

// TestValidateInCode covers checks that YAML decoding cannot reach (defaults hide zero values).
func TestValidateInCode(t *testing.T) {
	c := &Config{Issuer: "https://b.example.com"}
	c.ApplyDefaults()
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate(defaults) = %v", err)
	}
	c.Tokens.TTL = 0
	c.Runs.TTL = -time.Second
	c.Integrations = []Integration{{ID: "v", Space: "root", Timeout: -1, Vault: &Vault{Address: "https://v", Role: "r", Mount: "jwt"}}}
	err := c.Validate()
	var errs Errors
	if !errors.As(err, &errs) || len(errs) != 3 {
		t.Fatalf("Validate() = %v, want 3 problems", err)
	}
	for _, w := range []string{"tokens.ttl: must be greater than zero", "runs.ttl: must be greater than zero", "integrations[0].timeout: must not be negative"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("missing %q in %v", w, err)
		}
	}
}

// TestURLErrorsNeverQuoteAPassword: a URL whose password holds '/' or '#' (as generated and
// base64 passwords do) does not parse; its refusal names the key but never repeats the password,
// since the error goes to stderr and, on a reload, into the log and the audit trail. Nor does
// any other refusal of a value holding a login, whichever check makes it (every message and
// quoted value goes through RedactLogins).
func TestURLErrorsNeverQuoteAPassword(t *testing.T) {
	const secret = "S3cretPw"
	fileKeys := "keys: {backend: file, dir: /tmp/k}\n"
	for _, tc := range []struct{ name, yaml, key string }{
		{"vault address, '/' in password", withIntegration("    vault: {address: \"https://ci:" + secret + "/x@vault.example.com\", role: r}\n"), "vault.address"},
		{"vault address, '#' in password", withIntegration("    vault: {address: \"https://ci:ab#" + secret + "@vault.example.com\", role: r}\n"), "vault.address"},
		{"sts_endpoint, '/' in password", withIntegration("    aws: {role_arn: \"arn:aws:iam::123456789012:role/x\", sts_endpoint: \"https://ci:" + secret + "/y@sts.example.com\"}\n"), "aws.sts_endpoint"},
		{"keys.vault_transit.address, '/' in password", iss + "keys: {backend: vault-transit, vault_transit: {address: 'https://t:" + secret + "/a@vault:8200', mount: transit, key: k}}\n", "keys.vault_transit.address"},
		{"store.redis.url, '/' in password", iss + "store: {redis: {url: 'rediss://default:" + secret + "/abc@redis.example.com:6379/0'}}\n" + fileKeys, "store.redis.url"},
		{"issuer with a password", "issuer: https://ci:" + secret + "@broker.example.com\n", "issuer"},
		{"issuer, '/' in password", "issuer: https://ci:" + secret + "/x@broker.example.com\n", "issuer"},
		{"sentinel address written as a URL", iss + "store: {redis: {tls: true, sentinel: {master: m, addrs: ['rediss://:" + secret + "@10.0.0.1:26379']}}}\n" + fileKeys, "store.redis.sentinel.addrs[0]"},
		{"cluster address with a login", iss + "store: {redis: {tls: true, cluster: {addrs: ['u:" + secret + "@10.0.0.1:6379']}}}\n" + fileKeys, "store.redis.cluster.addrs[0]"},
		// A login anywhere else: where an integer, a bool or a duration belongs, as the listen
		// address, a trusted proxy, in a list (no key asserted).
		{"redis url as the sentinel db", iss + "store: {redis: {sentinel: {master: m, addrs: ['127.0.0.1:26379'], db: 'rediss://:" + secret + "@h:6379'}}}\n" + fileKeys, ""},
		{"redis url as password_file", iss + "store: {redis: {url: 'rediss://:" + secret + "@h:6379/0', password_file: 'rediss://:" + secret + "@h'}}\n" + fileKeys, ""},
		{"vault address where a block belongs", iss + "keys: {backend: vault-transit, vault_transit: 'https://t:" + secret + "@vault:8200'}\n", ""},
		{"webhook url, '/' in password", iss + "audit: {sinks: [{webhook: {url: 'https://u:" + secret + "/x@siem.example.com/h'}}]}\n", ""},
		{"authority_host http with login", withIntegration("    azure: {tenant_id: t.example.com, client_id: 00000000-0000-0000-0000-000000000002, authority_host: 'http://u:" + secret + "@login.example.com'}\n"), ""},
		{"listen with a login", iss + "listen: 'u:" + secret + "@0.0.0.0:8080'\n", ""},
		{"trusted proxy written as URL", iss + "http: {trusted_proxies: ['http://u:" + secret + "@10.0.0.1']}\n", ""},
		{"sts_endpoint in a list", withIntegration("    aws: {role_arn: 'arn:aws:iam::123456789012:role/x', sts_endpoint: ['https://u:" + secret + "@sts.example.com']}\n"), ""},
		{"redis url with an unknown scheme", iss + "store: {redis: {url: 'http://:" + secret + "@h:6379/0'}}\n" + fileKeys, ""},
		{"redis url, bad port", iss + "store: {redis: {url: 'rediss://:" + secret + "@h:99999/0'}}\n" + fileKeys, ""},
		{"redis url as the tls flag (a bool)", iss + "store: {redis: {tls: 'rediss://:" + secret + "@h:6379', sentinel: {master: m, addrs: ['127.0.0.1:26379']}}}\n" + fileKeys, ""},
		{"webhook url as its timeout (a duration)", iss + "audit: {sinks: [{webhook: {url: 'https://siem.example.com/h', timeout: 'https://u:" + secret + "@siem.example.com'}}]}\n", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("t.yaml", []byte(tc.yaml))
			if err == nil {
				t.Fatal("accepted")
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("the error repeats the password: %s", err)
			}
			if tc.key != "" && !strings.Contains(err.Error(), tc.key) {
				t.Errorf("the error does not name %s: %s", tc.key, err)
			}
		})
	}
}

// TestWrittenZeroThroughAlias: a count of 0 reached through a YAML alias is written out too, and
// refused like one written in place.
func TestWrittenZeroThroughAlias(t *testing.T) {
	y := iss + "store: {redis: {sentinel: {master: m, addrs: ['127.0.0.1:1'], db: &z 0}}}\n" +
		"limits: {auth_failures: *z}\nkeys: {backend: file, dir: /tmp/k}\n"
	_, err := Parse("t.yaml", []byte(y))
	if err == nil || !strings.Contains(err.Error(), "limits.auth_failures") || !strings.Contains(err.Error(), "must be at least 1") {
		t.Errorf("Parse = %v, want limits.auth_failures refused as at least 1", err)
	}
}
