package config

import (
	"strings"
	"testing"
	"time"
)

// problemsAt returns how many problems of err are at path.
func problemsAt(err error, path string) int {
	es, _ := err.(Errors)
	n := 0
	for _, fe := range es {
		if fe.Path == path {
			n++
		}
	}
	return n
}

// parsedConfig parses yaml (after edgeIssuer) and fails the test when it has problems.
func parsedConfig(t *testing.T, yaml string) *Config {
	t.Helper()
	cfg, err := Parse("edges.yaml", []byte(edgeIssuer+yaml))
	if err != nil {
		t.Fatalf("base configuration refused: %v", err)
	}
	return cfg
}

// TestValidateFileEdges pins down rules of the whole file: an issuer needs a host, ES256
// is a known algorithm, and a rotation period beyond the ten-year bound is reported once (not
// also as a retain of too many periods).
// Guards against: validate.go:issuer empty host allowed
// Guards against: validate.go:ES256 refused
// Guards against: validate.go:retain-periods check on huge period
func TestValidateFileEdges(t *testing.T) {
	checkEdges(t, []edgeCase{
		{"issuer without host", "issuer: https:///broker\n", "issuer"},
		{"ES256", "keys: {algorithm: ES256}\n", ""},
	})
	err := parseText(edgeIssuer + "keys:\n  rotation: {period: 200000h, prepublish: 1h, retain: 48h}\n")
	if problemAt(err, "keys.rotation.period") == nil {
		t.Errorf("period 200000h: want a problem at keys.rotation.period, got %v", err)
	}
	if fe := problemAt(err, "keys.rotation.retain"); fe != nil {
		t.Errorf("period 200000h, retain 48h: retain wrongly refused: %v", fe)
	}
}

// TestValidateOneProblemPerFault pins down that one fault gives one problem: an empty id
// is "required" only (two empty ids are not duplicates of each other), and an empty
// keys.backend gets one message.
// Guards against: validate.go:checkIDs empty no continue
// Guards against: validate.go:empty backend no break
func TestValidateOneProblemPerFault(t *testing.T) {
	cfg := parsedConfig(t, "")
	cfg.Spaces = append(cfg.Spaces, Space{ID: "", Parent: "root"}, Space{ID: "", Parent: "root"})
	cfg.Keys.Backend = ""
	err := cfg.Validate()
	path := joinIndex("spaces", len(cfg.Spaces)-1) + ".id"
	if n := problemsAt(err, path); n != 1 {
		t.Errorf("empty space id: %d problems at %s, want 1: %v", n, path, err)
	}
	if n := problemsAt(err, "keys.backend"); n != 1 {
		t.Errorf("empty keys.backend: %d problems, want 1: %v", n, err)
	}
}

// TestValidateCountBounds pins down, for a Config built in Go (where no default fills a
// zero), that audit.memory.retain, audit.memory.sink_backlog, a sink's max_batch and a webhook's
// timeout must be at least 1 (or positive), every HTTP and limiter duration must be positive,
// while limits.auth_failures may be 0.
// Guards against: validate.go:memory retain 0
// Guards against: validate.go:sink_backlog 0
// Guards against: validate.go:auth_failures 0 refused
// Guards against: audit_sinks.go:maxbatch 0
// Guards against: audit_sinks.go:webhook timeout zero
// Guards against: validate.go:shutdown_timeout unchecked
// Guards against: validate.go:read_header_timeout unchecked
// Guards against: validate.go:idle_timeout unchecked
// Guards against: validate.go:store_timeout unchecked
// Guards against: validate.go:cooloff unchecked
func TestValidateCountBounds(t *testing.T) {
	cases := []struct {
		path string
		set  func(c *Config)
	}{
		{"audit.memory.retain", func(c *Config) { c.Audit.Memory.Retain = 0 }},
		{"audit.memory.sink_backlog", func(c *Config) { c.Audit.Memory.SinkBacklog = 0 }},
		{"audit.sinks[0].max_batch", func(c *Config) { c.Audit.Sinks[0].MaxBatch = 0 }},
		{"audit.sinks[0].webhook.timeout", func(c *Config) { c.Audit.Sinks[0].Webhook.Timeout = 0 }},
		{"http.shutdown_timeout", func(c *Config) { c.HTTP.ShutdownTimeout = -time.Second }},
		{"http.read_header_timeout", func(c *Config) { c.HTTP.ReadHeaderTimeout = -time.Second }},
		{"http.idle_timeout", func(c *Config) { c.HTTP.IdleTimeout = -time.Second }},
		{"limits.store_timeout", func(c *Config) { c.Limits.StoreTimeout = -time.Second }},
		{"limits.cooloff", func(c *Config) { c.Limits.Cooloff = -time.Second }},
		{"", func(c *Config) { c.Limits.AuthFailures = 0 }},
	}
	for _, tc := range cases {
		cfg := parsedConfig(t, "audit:\n  sinks:\n    - webhook: {url: \"https://s.example.com/in\"}\n")
		tc.set(cfg)
		err := cfg.Validate()
		switch {
		case tc.path == "" && err != nil:
			t.Errorf("auth_failures 0: want accepted, got %v", err)
		case tc.path != "" && problemAt(err, tc.path) == nil:
			t.Errorf("%s out of bounds: want a problem there, got %v", tc.path, err)
		}
	}
}

// TestAuditSinkProblemsOncePerSink pins down that a sink setting both webhook and file
// has that one problem (no "same sink" clash with another such sink), and that a repeated sink
// names the first sink it repeats.
// Guards against: audit_sinks.go:both sinks no continue
// Guards against: audit_sinks.go:dup sink no continue
func TestAuditSinkProblemsOncePerSink(t *testing.T) {
	both := "    - {webhook: {url: \"https://s.example.com\"}, file: {path: /var/log/a}}\n"
	err := parseText(edgeIssuer + "audit:\n  sinks:\n" + both + both)
	if n := problemsAt(err, "audit.sinks[1]"); n != 1 {
		t.Errorf("two sinks setting both kinds: %d problems at audit.sinks[1], want 1: %v", n, err)
	}
	same := "    - file: {path: /var/log/a}\n"
	err = parseText(edgeIssuer + "audit:\n  sinks:\n" + same + same + same)
	if fe := problemAt(err, "audit.sinks[2]"); fe == nil || !strings.Contains(fe.Msg, "audit.sinks[0]") {
		t.Errorf("third identical sink: want its problem to name audit.sinks[0], got %v", fe)
	}
}
