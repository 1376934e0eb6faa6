package config

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/keys"
)

// edgeIssuer is the least a configuration holds; the edge cases add to it.
const edgeIssuer = "issuer: https://broker.example.com\n"

// parseText parses yaml as a configuration file and returns its problems.
func parseText(yaml string) error {
	_, err := Parse("edges.yaml", []byte(yaml))
	return err
}

// problemAt returns the problem of err at path, or nil.
func problemAt(err error, path string) *FieldError {
	var es Errors
	if !errors.As(err, &es) {
		return nil
	}
	for _, fe := range es {
		if fe.Path == path {
			return fe
		}
	}
	return nil
}

// edgeCase is a configuration (appended to edgeIssuer unless it sets issuer itself) and the
// path of the problem it must have; path "" means the configuration must be accepted.
type edgeCase struct {
	name, yaml, path string
}

// checkEdges parses each case and checks that it is accepted or has its problem.
func checkEdges(t *testing.T, cases []edgeCase) {
	t.Helper()
	for _, c := range cases {
		doc := c.yaml
		if !strings.HasPrefix(doc, "issuer:") {
			doc = edgeIssuer + doc
		}
		err := parseText(doc)
		switch {
		case c.path == "" && err != nil:
			t.Errorf("%s: want accepted, got %v", c.name, err)
		case c.path != "" && problemAt(err, c.path) == nil:
			t.Errorf("%s: want a problem at %s, got %v", c.name, c.path, err)
		}
	}
}

// TestIssuerAndEndpointURLs: the issuer and every upstream base URL are absolute http(s)
// URLs without a query or fragment, even an empty one ("?" or "#" alone); the issuer's path,
// under which discovery is served, has segments of letters, digits and -._~ only, none empty,
// . or .. (a router would read it otherwise, or refuse to route it).
func TestIssuerAndEndpointURLs(t *testing.T) {
	sts := func(u string) string {
		return "integrations:\n  - id: a\n    space: root\n    aws: {role_arn: \"arn:aws:iam::123456789012:role/r\", sts_endpoint: \"" + u + "\"}\n"
	}
	checkEdges(t, []edgeCase{
		{"issuer with an empty query", "issuer: \"https://broker.example.com?\"\n", "issuer"},
		{"issuer with an empty fragment", "issuer: \"https://broker.example.com#\"\n", "issuer"},
		{"issuer of another scheme", "issuer: \"ftp://broker.example.com\"\n", "issuer"},
		{"issuer of scheme wss", "issuer: \"wss://broker.example.com\"\n", "issuer"},
		{"issuer on LOCALHOST over http", "issuer: \"http://LOCALHOST:8080\"\n", ""},
		{"issuer with a plain path", "issuer: \"https://broker.example.com/t-1.a_b~c/v2\"\n", ""},
		{"issuer with an empty segment", "issuer: \"https://broker.example.com//t\"\n", "issuer"},
		{"issuer with a dot segment", "issuer: \"https://broker.example.com/t/.\"\n", "issuer"},
		{"issuer with a dot-dot segment", "issuer: \"https://broker.example.com/a/../t\"\n", "issuer"},
		{"issuer with a brace", "issuer: \"https://broker.example.com/{x}\"\n", "issuer"},
		{"issuer with an encoded slash", "issuer: \"https://broker.example.com/a%2Fb\"\n", "issuer"},
		{"issuer with a space", "issuer: \"https://broker.example.com/a%20b\"\n", "issuer"},
		{"endpoint with an empty query", sts("https://sts.example.com?"), "integrations[0].aws.sts_endpoint"},
		{"endpoint with a fragment", sts("https://sts.example.com#x"), "integrations[0].aws.sts_endpoint"},
		{"endpoint with an empty fragment", sts("https://sts.example.com#"), "integrations[0].aws.sts_endpoint"},
		{"endpoint fine", sts("https://sts.example.com/prefix"), ""},
		{"listen port written 00", "listen: \"127.0.0.1:00\"\n", "listen"},
	})
}

// TestRedactionKeepsPasswordsHoldingAt: a password may hold '@'; what an error shows of a
// URL with a login hides all of it, up to the last '@'.
func TestRedactionKeepsPasswordsHoldingAt(t *testing.T) {
	const secret = "topsecret"
	for _, s := range []string{
		"redis://admin:hunter2@" + secret + "@redis.example.com:6379/0",
		"https://admin:hunter2@" + secret + "@broker.example.com",
	} {
		if got := redactURL(s); strings.Contains(got, secret) {
			t.Errorf("redactURL(%q) = %q, shows the password", s, got)
		}
		if got := RedactLogins("value " + s + " refused"); strings.Contains(got, secret) {
			t.Errorf("RedactLogins(%q) = %q, shows the password", s, got)
		}
	}
	// Through Parse: an issuer with such a login, and a value of the wrong type.
	for _, doc := range []string{
		"issuer: \"https://admin:hunter2@" + secret + "@broker.example.com\"\n",
		edgeIssuer + "limits: {auth_failures: \"redis://admin:hunter2@" + secret + "@redis.example.com:6379\"}\n",
	} {
		err := parseText(doc)
		if err == nil {
			t.Fatalf("%q accepted", doc)
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error shows the password: %v", err)
		}
	}
}

// TestBoundsAtTheEdges: each bound refuses the first value past it.
func TestBoundsAtTheEdges(t *testing.T) {
	sink := func(extra string) string {
		return "audit:\n  sinks:\n    - {file: {path: /var/log/broker/a.jsonl}" + extra + "}\n"
	}
	hook := func(timeout string) string {
		return "audit:\n  sinks:\n    - {webhook: {url: \"https://siem.example.com/x\", timeout: " + timeout + "}}\n"
	}
	checkEdges(t, []edgeCase{
		{"checkpoint interval under a second", "audit: {checkpoint: {interval: 600ms}}\n", "audit.checkpoint.interval"},
		{"checkpoint interval of a second", "audit: {checkpoint: {interval: 1s}}\n", ""},
		{"sink_backlog past the most", fmt.Sprintf("audit: {memory: {sink_backlog: %d}}\n", audit.MaxMemoryEvents+1), "audit.memory.sink_backlog"},
		{"sink_backlog at the most", fmt.Sprintf("audit: {memory: {sink_backlog: %d}}\n", audit.MaxMemoryEvents), ""},
		{"sink max_backoff under the least", sink(", max_backoff: 6ms"), "audit.sinks[0].max_backoff"},
		{"sink max_backoff at the least", sink(", max_backoff: 10ms"), ""},
		{"webhook timeout a second past the most", hook("5m1s"), "audit.sinks[0].webhook.timeout"},
		{"webhook timeout at the most", hook("5m"), ""},
	})
}

// TestIntegrationDurationInCode: Validate refuses a negative integration duration on a
// Config built in code, as it does a negative timeout (Azure has no duration rule of its own).
func TestIntegrationDurationInCode(t *testing.T) {
	c := &Config{Issuer: "https://broker.example.com", Integrations: []Integration{{
		ID: "v", Space: "root", Duration: -time.Second,
		Azure: &Azure{TenantID: "00000000-0000-0000-0000-000000000001", ClientID: "00000000-0000-0000-0000-000000000002"},
	}}}
	c.ApplyDefaults()
	if problemAt(c.Validate(), "integrations[0].duration") == nil {
		t.Errorf("negative duration accepted: %v", c.Validate())
	}
}

// TestFileSinkName: a file sink without a name is named after its path, so that it keeps its
// cursor in the store: "file-" and the first 8 hex digits of the path's SHA-256.
func TestFileSinkName(t *testing.T) {
	s := AuditSink{File: &FileSink{Path: "/var/log/broker/audit.jsonl"}}
	// sha256("/var/log/broker/audit.jsonl")
	want := "file-" + sha256Prefix("/var/log/broker/audit.jsonl")
	if got := s.SinkName(); got != want {
		t.Errorf("SinkName = %q, want %q", got, want)
	}
}

// sha256Prefix is the first 8 hex digits of s's SHA-256.
func sha256Prefix(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:4])
}

// TestKeysBounds: the key backends' required fields and the rotation bounds, at their edges.
func TestKeysBounds(t *testing.T) {
	over := (keys.MaxPolicyDuration + time.Second).String()
	checkEdges(t, []edgeCase{
		{"vault-transit without address", "keys: {backend: vault-transit, vault_transit: {mount: transit, key: broker}}\n", "keys.vault_transit.address"},
		{"vault-transit fine", "keys: {backend: vault-transit, vault_transit: {address: \"https://vault.example.com\", mount: transit, key: broker}}\n", ""},
		{"vault-transit mount with slashes around", "keys: {backend: vault-transit, vault_transit: {address: \"https://vault.example.com\", mount: /transit/, key: broker}}\n", ""},
		{"transit key of 128", "keys: {backend: vault-transit, vault_transit: {address: \"https://vault.example.com\", mount: transit, key: " + strings.Repeat("k", 128) + "}}\n", ""},
		{"transit key of 129", "keys: {backend: vault-transit, vault_transit: {address: \"https://vault.example.com\", mount: transit, key: " + strings.Repeat("k", 129) + "}}\n", "keys.vault_transit.key"},
		{"period a second past ten years", "keys: {rotation: {period: " + over + "}}\n", "keys.rotation.period"},
		{"retain a second under tokens.ttl", "tokens: {ttl: 1h}\nkeys: {rotation: {retain: 59m59s}}\n", "keys.rotation.retain"},
		{"retain equal to tokens.ttl", "tokens: {ttl: 1h}\nkeys: {rotation: {retain: 1h}}\n", ""},
	})
}

// TestValidateInCodeRotation: Validate refuses a non-positive rotation period on a Config
// built in code (Parse never yields one).
func TestValidateInCodeRotation(t *testing.T) {
	c := &Config{Issuer: "https://broker.example.com"}
	c.ApplyDefaults()
	c.Keys.Rotation.Period = -time.Hour
	if problemAt(c.Validate(), "keys.rotation.period") == nil {
		t.Errorf("negative rotation period accepted: %v", c.Validate())
	}
}

// TestRedisAddrLoginNotQuoted: a Sentinel or cluster address written with a login is refused
// without repeating the password, whatever else is wrong with it.
func TestRedisAddrLoginNotQuoted(t *testing.T) {
	for _, doc := range []string{
		"keys: {backend: redis, redis: {encryption_key_env: BROKER_KEY}}\nstore: {redis: {tls: true, sentinel: {master: m, addrs: [\"admin:topsecret@10.0.0.1:26379\"]}}}\n",
		"keys: {backend: redis, redis: {encryption_key_env: BROKER_KEY}}\nstore: {redis: {tls: true, cluster: {addrs: [\"admin:topsecret@10.0.0.1\"]}}}\n",
	} {
		err := parseText(edgeIssuer + doc)
		if err == nil {
			t.Fatalf("accepted: %s", doc)
		}
		if strings.Contains(err.Error(), "topsecret") {
			t.Errorf("error shows the password: %v", err)
		}
	}
}

// TestRedisURLDatabase: the database of store.redis.url is a number.
func TestRedisURLDatabase(t *testing.T) {
	k := "keys: {backend: redis, redis: {encryption_key_env: BROKER_KEY}}\n"
	checkEdges(t, []edgeCase{
		{"database a word", k + "store: {redis: {url: \"rediss://redis.example.com:6380/abc\"}}\n", "store.redis.url"},
		{"database a number", k + "store: {redis: {url: \"rediss://redis.example.com:6380/3\"}}\n", ""},
	})
}

// TestTrustedProxyMappedCIDR: an IPv4 network written in IPv4-mapped IPv6 form is refused
// as the bare address is, since it would never match an IPv4 peer.
func TestTrustedProxyMappedCIDR(t *testing.T) {
	for _, s := range []string{"::ffff:10.0.0.0/104", "::ffff:10.0.0.1/128"} {
		if _, err := ParseTrustedProxy(s); err == nil {
			t.Errorf("ParseTrustedProxy(%q) accepted", s)
		}
	}
	checkEdges(t, []edgeCase{
		{"mapped CIDR in the file", "http: {trusted_proxies: [\"::ffff:10.0.0.0/104\"]}\n", "http.trusted_proxies[0]"},
	})
}

// TestIDRuleEdges: ids follow ^[a-z0-9][a-z0-9-]{0,62}$ exactly, and API key digests are
// exactly 64 lowercase hex characters.
func TestIDRuleEdges(t *testing.T) {
	id63 := "a" + strings.Repeat("b", 62)
	id64 := id63 + "c"
	digest := strings.Repeat("ab", 32)
	key := func(d string) string {
		return "roles: [{id: r, actions: [run:read]}]\napi_keys: [{id: k, secret_sha256: \"" + d + "\", bindings: [{role: r, space: root}]}]\n"
	}
	checkEdges(t, []edgeCase{
		{"stack id of 63", "stacks: [{id: " + id63 + ", space: root}]\n", ""},
		{"stack id of 64", "stacks: [{id: " + id64 + ", space: root}]\n", "stacks[0].id"},
		{"stack id starting with '-'", "stacks: [{id: \"-vpc\", space: root}]\n", "stacks[0].id"},
		{"digest fine", key(digest), ""},
		{"digest in upper case", key(strings.ToUpper(digest)), "api_keys[0].secret_sha256"},
		{"digest with more after it", key(digest + "00"), "api_keys[0].secret_sha256"},
	})
}

// TestValidationProblemsCapped: Parse lists at most maxProblems problems, validation's
// included, and says how many it left out.
func TestValidationProblemsCapped(t *testing.T) {
	var b strings.Builder
	b.WriteString(edgeIssuer + "stacks:\n")
	for i := range 150 {
		b.WriteString("  - {id: s" + strconv.Itoa(i) + ", space: nowhere}\n")
	}
	var es Errors
	if err := parseText(b.String()); !errors.As(err, &es) {
		t.Fatalf("want Errors, got %v", err)
	}
	if len(es) != maxProblems+1 || !strings.Contains(es[len(es)-1].Msg, "and 50 more problems not listed") {
		t.Errorf("%d problems listed, last %q; want %d and \"and 50 more problems not listed\"", len(es), es[len(es)-1].Msg, maxProblems+1)
	}
}

// TestTooLargeComesFirst: when the document is too large, that problem comes first, before
// problems on earlier lines.
func TestTooLargeComesFirst(t *testing.T) {
	src := aliasedStacks(150, 1000, "B")
	src = strings.Replace(src, "issuer: https://broker.example.com\n", "issuer: https://broker.example.com\nbogus_key: 1\n", 1)
	var es Errors
	if err := parseText(src); !errors.As(err, &es) || len(es) < 2 {
		t.Fatalf("want several problems, got %v", err)
	}
	if !strings.Contains(es[0].Msg, "document too large") {
		t.Errorf("first problem %q, want the document too large", es[0].Msg)
	}
}

// TestIntegrationFields: cloud identifiers are refused past their exact form, and
// durations at the edges of what each provider grants.
func TestIntegrationFields(t *testing.T) {
	in := func(body string) string { return "integrations:\n  - id: i\n    space: root\n    " + body + "\n" }
	aws := func(arn, extra string) string {
		return in("aws: {role_arn: \"" + arn + "\"}" + extra)
	}
	const arn = "arn:aws:iam::123456789012:role/r"
	gcp := func(wip, sa, extra string) string {
		return in("gcp: {workload_identity_provider: \"" + wip + "\", service_account: \"" + sa + "\"" + extra + "}")
	}
	const wip = "projects/1/locations/global/workloadIdentityPools/pool/providers/prov"
	const sa = "tf@proj.iam.gserviceaccount.com"
	vault := func(role string) string {
		return in("vault: {address: \"https://vault.example.com\", role: \"" + role + "\"}")
	}
	checkEdges(t, []edgeCase{
		{"role ARN with a space", aws(arn+" x", ""), "integrations[0].aws.role_arn"},
		{"role ARN with a newline", aws(arn+"\\nx", ""), "integrations[0].aws.role_arn"},
		{"aws duration 15m", aws(arn, "\n    duration: 15m"), ""},
		{"aws duration 12h", aws(arn, "\n    duration: 12h"), ""},
		{"aws duration under 15m", aws(arn, "\n    duration: 14m59s"), "integrations[0].duration"},
		{"aws duration past 12h", aws(arn, "\n    duration: 12h0m1s"), "integrations[0].duration"},
		{"aws duration not whole seconds", aws(arn, "\n    duration: 900500ms"), "integrations[0].duration"},
		{"wip provider with a path", gcp(wip+"/../x", sa, ""), "integrations[0].gcp.workload_identity_provider"},
		{"wip provider with upper case", gcp(wip+"X", sa, ""), "integrations[0].gcp.workload_identity_provider"},
		{"service account without a dot", gcp(wip, "tf@proj", ""), "integrations[0].gcp.service_account"},
		{"service account with a space", gcp(wip, "t f@proj.iam.gserviceaccount.com", ""), "integrations[0].gcp.service_account"},
		{"service account with two @", gcp(wip, "a@b@proj.iam.gserviceaccount.com", ""), "integrations[0].gcp.service_account"},
		{"service account with a slash", gcp(wip, "a/b@proj.iam.gserviceaccount.com", ""), "integrations[0].gcp.service_account"},
		{"service account with a query", gcp(wip, "a@proj.iam.gserviceaccount.com?x=1", ""), "integrations[0].gcp.service_account"},
		{"service account with a fragment", gcp(wip, "a@proj.iam#gserviceaccount.com", ""), "integrations[0].gcp.service_account"},
		{"service account with a percent", gcp(wip, "a%2f@proj.iam.gserviceaccount.com", ""), "integrations[0].gcp.service_account"},
		{"service account with a colon", gcp(wip, "a@proj.iam.gserviceaccount.com:x", ""), "integrations[0].gcp.service_account"},
		{"service account of a user-managed project", gcp(wip, "tf-prod_1+x@my-proj.iam.gserviceaccount.com", ""), ""},
		{"gcp empty scope", gcp(wip, sa, ", scopes: [\"\"]"), "integrations[0].gcp.scopes[0]"},
		{"gcp duration 12h", gcp(wip, sa, "") + "    duration: 12h\n", ""},
		{"gcp duration past 12h", gcp(wip, sa, "") + "    duration: 12h0m1s\n", "integrations[0].duration"},
		{"gcp duration not whole seconds", gcp(wip, sa, "") + "    duration: 3600500ms\n", "integrations[0].duration"},
		{"azure without client_id", in("azure: {tenant_id: 00000000-0000-0000-0000-000000000001}"), "integrations[0].azure.client_id"},
		{"vault role with a space", vault("vpc prod"), "integrations[0].vault.role"},
		{"vault role fine", vault("vpc-prod"), ""},
	})
}

// TestTenantRuleForEveryObject: the tenant id goes into the authority's path; the rule every
// object follows (ValidateObjects, which the API runs on stored objects) refuses a '/' in it.
func TestTenantRuleForEveryObject(t *testing.T) {
	for _, tenant := range []string{"evil/x", "contoso.onmicrosoft.com/../other"} {
		c := &Config{Spaces: []Space{{ID: RootSpace}}, Integrations: []Integration{{
			ID: "az", Space: RootSpace,
			Azure: &Azure{TenantID: tenant, ClientID: "00000000-0000-0000-0000-000000000002"},
		}}}
		c.ApplyObjectDefaults()
		if problemAt(c.ValidateObjects(), "integrations[0].azure.tenant_id") == nil {
			t.Errorf("tenant %q accepted by ValidateObjects", tenant)
		}
	}
}

// TestEdgeShapes pins refusals at the shape of values that earlier tests left unheld: an
// upstream https URL with no host, a GCP scope ending in an empty fragment, a Vault role holding
// a '/', an encryption_key_env that starts with a digit, and an audit sink batch one past its
// bound (the bound itself accepted).
// Guards against: drop `u.Host == ""` from validate.go:checkURL
// Guards against: drop the `?#` ContainsAny test from formats.go:isScopeURL
// Guards against: let '/' into vaultRoleRE in integrations.go:checkVault
// Guards against: let a leading digit into envNamePattern in validate_keys.go:checkKeysRedis
// Guards against: max_batch bound off by one in audit_sinks.go:checkAuditSinks
func TestEdgeShapes(t *testing.T) {
	vault := func(body string) string {
		return "integrations:\n  - id: v\n    space: root\n    vault: {" + body + "}\n"
	}
	gcp := func(scope string) string {
		return "integrations:\n  - id: g\n    space: root\n    gcp:\n" +
			"      workload_identity_provider: projects/1/locations/global/workloadIdentityPools/pool/providers/prov\n" +
			"      service_account: sa@proj.iam.gserviceaccount.com\n" +
			"      scopes: [\"" + scope + "\"]\n"
	}
	keysEnv := func(name string) string {
		return "store: {redis: {url: \"redis://127.0.0.1:6379/0\"}}\n" +
			"keys: {backend: redis, redis: {encryption_key_env: \"" + name + "\"}}\n"
	}
	sink := func(batch string) string {
		return "audit: {sinks: [{file: {path: /var/log/broker/audit.jsonl}, max_batch: " + batch + "}]}\n"
	}
	checkEdges(t, []edgeCase{
		{"vault address without a host", vault(`address: "https:///vault", role: dev`), "integrations[0].vault.address"},
		{"vault address with a host", vault(`address: "https://vault.example.com", role: dev`), ""},
		{"vault role holding a slash", vault(`address: "https://vault.example.com", role: "dev/admin"`), "integrations[0].vault.role"},
		{"gcp scope ending in an empty fragment", gcp("https://www.googleapis.com/auth/cloud-platform#"), "integrations[0].gcp.scopes[0]"},
		{"gcp scope", gcp("https://www.googleapis.com/auth/cloud-platform"), ""},
		{"key variable starting with a digit", keysEnv("1BROKER_KEY"), "keys.redis.encryption_key_env"},
		{"key variable", keysEnv("BROKER_KEY"), ""},
		{"sink batch past the bound", sink("1001"), "audit.sinks[0].max_batch"},
		{"sink batch at the bound", sink("1000"), ""},
	})
}

// TestAWSModeDefaultsToWebIdentity pins that an AWS integration without a mode exchanges
// the run's own token (web-identity), never broker's own AWS credentials (assume-role).
// Guards against: default AWS mode changed in defaults.go:ApplyObjectDefaults
func TestAWSModeDefaultsToWebIdentity(t *testing.T) {
	c, err := Parse("probe.yaml", []byte(edgeIssuer+
		"integrations:\n  - id: a\n    space: root\n    aws: {role_arn: \"arn:aws:iam::123456789012:role/r\"}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Integrations[0].AWS.Mode; got != AWSModeWebIdentity {
		t.Fatalf("aws.mode left out = %q, want %q", got, AWSModeWebIdentity)
	}
}

// TestFormatsAreAFileRule pins that the formats of cloud identifiers are held to the file
// only: ValidateObjects (the API's check of stored and merged objects) accepts an integration
// written before a format rule existed, so that it leaves every other change possible.
// Guards against: checkFormats run without fileRules in integrations.go:checkIntegrations
func TestFormatsAreAFileRule(t *testing.T) {
	c := &Config{Spaces: []Space{{ID: RootSpace}}, Integrations: []Integration{{ID: "a", Space: RootSpace,
		AWS: &AWS{Mode: AWSModeWebIdentity, RoleARN: "arn:aws:iam::123456789012:role/r", Region: "EU-WEST-1"}}}}
	if err := c.ValidateObjects(); err != nil {
		t.Fatalf("ValidateObjects refuses a stored region of an old form: %v", err)
	}
	if err := CheckIntegrationFormats(c.Integrations[0], "integrations[0]"); problemAt(err, "integrations[0].aws.region") == nil {
		t.Fatalf("CheckIntegrationFormats: want a problem at integrations[0].aws.region, got %v", err)
	}
}
