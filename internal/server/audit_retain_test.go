package server

import (
	"testing"

	"github.com/brokerhq/broker/internal/audit"
)

// audit.memory.retain bounds the in-memory chain: the latest events stay listed and verifiable.
func TestAuditMemoryRetainSetting(t *testing.T) {
	ts := startServer(t, serverOptions{extraYAML: "audit: {memory: {retain: 8}}\n"})
	run := ts.createRun(t, "app-a", "TRACKED")
	for range 30 {
		ts.mint(t, run.RunToken, "sts.amazonaws.com")
	}
	all := auditEvents(t, ts, "root", 3)
	// At most a sixteenth more (at least one) than the setting is held between trims; the listings
	// themselves (audit.read events) may add a few more events by the last page.
	if len(all) < 8 || len(all) > 8+2+4 {
		t.Fatalf("listed %d events, want about the 8 retained", len(all))
	}
	if all[0].Prev == "" {
		t.Error("the first listed event is the chain's first: nothing was dropped")
	}
	if err := audit.Verify(all); err != nil {
		t.Errorf("retained chain: %v", err)
	}
}
