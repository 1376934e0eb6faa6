package config

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestAuditSinkErrors(t *testing.T) {
	sinks := func(body string) string { return iss + "audit:\n  sinks:\n" + body }
	cases := []struct {
		name, src, path, line, msg string
	}{
		{"both kinds", sinks("    - webhook: {url: \"https://siem.example.com/b\"}\n      file: {path: /var/log/a.jsonl}\n"),
			"audit.sinks[0]", "4", "sets both webhook and file; exactly one"},
		{"no kind", sinks("    - name: s\n"), "audit.sinks[0]", "4", "needs exactly one of webhook (url, secret_file) and file (path)"},
		{"missing url", sinks("    - webhook: {secret_file: /etc/s}\n"), "audit.sinks[0].webhook.url", "4", "required"},
		{"http off loopback", sinks("    - webhook: {url: \"http://siem.example.com/b\"}\n"), "audit.sinks[0].webhook.url", "4",
			`"http://siem.example.com/..." must use https (plain http is allowed only on a loopback host)`},
		{"query", sinks("    - webhook: {url: \"https://siem.example.com/b?token=x\"}\n"), "audit.sinks[0].webhook.url", "4", "must not have a query or fragment"},
		{"user information", sinks("    - webhook: {url: \"https://u:pw@siem.example.com/b\"}\n"), "audit.sinks[0].webhook.url", "4",
			"must not contain user information: put the shared secret in secret_file"},
		{"not a URL", sinks("    - webhook: {url: \"siem\"}\n"), "audit.sinks[0].webhook.url", "4", "must be an absolute http or https URL"},
		{"negative timeout", sinks("    - webhook: {url: \"https://s.example.com\", timeout: -1s}\n"),
			"audit.sinks[0].webhook.timeout", "4", "must not be negative"},
		{"long timeout", sinks("    - webhook: {url: \"https://s.example.com\", timeout: 1h}\n"),
			"audit.sinks[0].webhook.timeout", "4", "must be at most 5m0s"},
		{"missing path", sinks("    - file: {}\n"), "audit.sinks[0].file.path", "4", "required"},
		{"relative path", sinks("    - file: {path: audit.jsonl}\n"), "audit.sinks[0].file.path", "4", `"audit.jsonl" must be an absolute path`},
		{"bad name", sinks("    - name: SIEM\n      file: {path: /a}\n"), "audit.sinks[0].name", "4", `name "SIEM" must match`},
		{"batch too big", sinks("    - file: {path: /a}\n      max_batch: 5000\n"), "audit.sinks[0].max_batch", "5", "must be between 1 and 1000, got 5000"},
		{"backoff too short", sinks("    - file: {path: /a}\n      max_backoff: 1ms\n"), "audit.sinks[0].max_backoff", "5", "must be at least 10ms, got 1ms"},
		{"same target twice", sinks("    - file: {path: /a}\n    - file: {path: /a}\n"), "audit.sinks[1]", "5",
			"is the same sink as audit.sinks[0] (sink \"file-"},
		{"same name twice", sinks("    - {name: s, file: {path: /a}}\n    - {name: s, file: {path: /b}}\n"), "audit.sinks[1]", "5",
			"is the same sink as audit.sinks[0] (sink \"s\")"},
		{"unknown key", sinks("    - webhook: {url: \"https://s.example.com\", secret: x}\n"), "audit.sinks[0].webhook.secret", "4", "unknown key"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("t.yaml", []byte(tc.src))
			var errs Errors
			if !errors.As(err, &errs) {
				t.Fatalf("Parse() = %v, want Errors", err)
			}
			prefix := "t.yaml:" + tc.line + ": " + tc.path + ": "
			for _, fe := range errs {
				if fe.Path == tc.path && strings.HasPrefix(fe.Error(), prefix) && strings.Contains(fe.Msg, tc.msg) {
					return
				}
			}
			t.Errorf("no problem starting %q with %q in:\n%v", prefix, tc.msg, err)
		})
	}
}

func TestAuditSinkDefaultsAndNames(t *testing.T) {
	src := iss + `audit:
  sinks:
    - webhook: {url: "https://siem.example.com/broker", secret_file: /etc/broker/s}
    - file: {path: /var/log/broker/audit.jsonl}
      max_batch: 10
      max_backoff: 2s
    - name: local
      webhook: {url: "http://127.0.0.1:9000/in", timeout: 3s}
`
	c, err := Parse("t.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	s := c.Audit.Sinks
	if len(s) != 3 {
		t.Fatalf("%d sinks", len(s))
	}
	if s[0].MaxBatch != DefaultAuditSinkBatch || s[0].MaxBackoff != DefaultAuditSinkMaxBackoff || s[0].Webhook.Timeout != DefaultWebhookTimeout {
		t.Errorf("defaults not applied: %+v %+v", s[0], s[0].Webhook)
	}
	if s[1].MaxBatch != 10 || s[1].MaxBackoff != 2*time.Second || s[2].Webhook.Timeout != 3*time.Second {
		t.Errorf("explicit values lost: %+v %+v", s[1], s[2].Webhook)
	}
	// Derived names: kind plus 8 hex digits of the target, never the target itself.
	for i, kind := range []string{"webhook", "file"} {
		n := s[i].SinkName()
		if !strings.HasPrefix(n, kind+"-") || len(n) != len(kind)+9 || strings.Contains(n, "siem") || !IDPattern.MatchString(n) {
			t.Errorf("sink %d name %q", i, n)
		}
	}
	if s[0].SinkName() == s[1].SinkName() {
		t.Error("two targets share a name")
	}
	if n := s[2].SinkName(); n != "local" {
		t.Errorf("named sink %q", n)
	}
}

// TestSinkOfNoOneKindReportsItsOtherProblems: Validate reports every problem of an audit sink
// at once. A sink that sets neither or both kinds is told so, and also of a bad name, batch or
// backoff, instead of having those wait for the next attempt.
func TestSinkOfNoOneKindReportsItsOtherProblems(t *testing.T) {
	const rest = "name: SIEM, max_batch: 5000, max_backoff: 1ms"
	for _, sink := range []string{
		"{" + rest + "}",
		"{webhook: {url: \"https://s.example.com\"}, file: {path: /var/log/a}, " + rest + "}",
	} {
		err := parseText(edgeIssuer + "audit:\n  sinks:\n    - " + sink + "\n")
		for _, path := range []string{"audit.sinks[0]", "audit.sinks[0].name",
			"audit.sinks[0].max_batch", "audit.sinks[0].max_backoff"} {
			if problemAt(err, path) == nil {
				t.Errorf("sink %s: no problem at %s in %v", sink, path, err)
			}
		}
	}
}
