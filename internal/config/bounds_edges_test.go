package config

import (
	"fmt"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/audit"
)

const issuerLine = "issuer: https://broker.example.com\n"

// TestRetainOfExactly16PeriodsAccepted: keys.rotation.retain may be 16 rotation periods
// ("at most"), and a minute more is refused.
func TestRetainOfExactly16PeriodsAccepted(t *testing.T) {
	rot := func(retain string) string {
		return issuerLine + "keys:\n  rotation:\n    period: 2h\n    prepublish: 1h\n    retain: " + retain + "\n"
	}
	if _, err := Parse("a.yaml", []byte(rot("32h"))); err != nil {
		t.Errorf("retain of 16 periods of 2h: %v", err)
	}
	if _, err := Parse("a.yaml", []byte(rot("32h1m"))); err == nil || !strings.Contains(err.Error(), "keys.rotation.retain") {
		t.Errorf("retain of 16 periods and a minute: %v, want keys.rotation.retain refused", err)
	}
}

// TestAuditMemoryRetainUpperBound: audit.memory.retain is at most audit.MaxMemoryEvents
// (2^30): one more is refused, the bound itself taken.
func TestAuditMemoryRetainUpperBound(t *testing.T) {
	at := func(n int) string { return fmt.Sprintf(issuerLine+"audit: {memory: {retain: %d}}\n", n) }
	if _, err := Parse("a.yaml", []byte(at(audit.MaxMemoryEvents+1))); err == nil || !strings.Contains(err.Error(), "audit.memory.retain") {
		t.Errorf("retain 2^30+1: %v, want audit.memory.retain refused", err)
	}
	if cfg, err := Parse("a.yaml", []byte(at(audit.MaxMemoryEvents))); err != nil || cfg.Audit.Memory.Retain != audit.MaxMemoryEvents {
		t.Errorf("retain 2^30: %v", err)
	}
}

// TestSinkBacklogUpperBoundIsInclusive: audit.memory.sink_backlog may be exactly 2^30.
func TestSinkBacklogUpperBoundIsInclusive(t *testing.T) {
	src := fmt.Sprintf(issuerLine+"audit: {memory: {sink_backlog: %d}}\n", audit.MaxMemoryEvents)
	if cfg, err := Parse("a.yaml", []byte(src)); err != nil || cfg.Audit.Memory.SinkBacklog != audit.MaxMemoryEvents {
		t.Errorf("sink_backlog 2^30: %v", err)
	}
}

// TestWebhookTimeoutOfExactly5mAccepted: a webhook's timeout may be MaxWebhookTimeout.
func TestWebhookTimeoutOfExactly5mAccepted(t *testing.T) {
	src := issuerLine + "audit:\n  sinks:\n    - webhook: {url: \"https://s.example.com\", timeout: 5m}\n"
	if _, err := Parse("a.yaml", []byte(src)); err != nil && strings.Contains(err.Error(), "timeout") {
		t.Errorf("webhook timeout 5m: %v", err)
	}
}
