package server

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/testutil/redistest"
)

// anchoredTrail waits until the root trail of ts ends with a checkpoint covering at least want
// events, and returns it verified against ts's JWKS.
func anchoredTrail(t *testing.T, ts *testServer, want int64) ([]audit.Event, audit.Report) {
	t.Helper()
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(get(t, ts.URL+"/.well-known/jwks", "").body, &set); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		all := auditEvents(t, ts, "root", 1000)
		r, err := audit.VerifyAnchored(all, audit.AnchorConfig{Issuer: ts.srv.cfg.Issuer, Keys: &set})
		if err != nil {
			t.Fatalf("trail of %d events: %v", len(all), err)
		}
		if r.Anchored >= want {
			return all, r
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 15s the trail of %d events is anchored up to %d, want %d", len(all), r.Anchored, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestAuditCheckpoints: with audit.checkpoint.every set, the replica signs checkpoints with its
// token signing key into the trail, and they verify against the JWKS it serves.
func TestAuditCheckpoints(t *testing.T) {
	ts := startServer(t, serverOptions{alg: "ES256", extraYAML: "audit: {checkpoint: {every: 3, interval: 1h}}\n"})
	run := ts.createRun(t, "vpc-prod", "TRACKED")
	for i := 0; i < 5; i++ {
		if _, code := ts.mint(t, run.RunToken, ""); code != 200 {
			t.Fatalf("mint: %d", code)
		}
	}
	all, r := anchoredTrail(t, ts, 6) // the first key, the run, 4 of the tokens at least
	if r.Verified < 1 || r.Latest.KID != ts.srv.Keys().Snapshot().Signing.KID || len(r.Unverifiable) != 0 {
		t.Errorf("report %+v", r)
	}
	for _, e := range all {
		if e.Action == audit.CheckpointAction && (e.Actor != audit.CheckpointActor || e.Space != "root") {
			t.Errorf("checkpoint event %+v", e)
		}
	}
}

// TestAuditCheckpointsAcrossReplicas: replicas appending to one chain on Redis sign about one
// checkpoint per every events between them, not one each.
func TestAuditCheckpointsAcrossReplicas(t *testing.T) {
	redis := redistest.Start(t)
	rs := startReplicas(t, 3, serverOptions{redisURL: redis.URL(), keyBackend: "redis", extraYAML: "audit: {checkpoint: {every: 10, interval: 1h}}\n"})
	run := rs[0].createRun(t, "vpc-prod", "TRACKED")
	var wg sync.WaitGroup
	for w := 0; w < 6; w++ { // 6 clients, 2 on each replica, 20 tokens each
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				if _, code := rs[w%3].mint(t, run.RunToken, ""); code != 200 {
					t.Errorf("mint: %d", code)
					return
				}
			}
		}()
	}
	wg.Wait()
	all, r := anchoredTrail(t, rs[1], 100) // of 122 events and the checkpoints between them
	// Each checkpoint covers at least every events more than the one before (not counting that
	// checkpoint itself): however the replicas race, never more than one per every events.
	prev, gaps := int64(-1), []int64{}
	for _, e := range all {
		if e.Action != audit.CheckpointAction {
			continue
		}
		parts := strings.Split(e.Detail, ".")
		raw, err := base64.RawURLEncoding.DecodeString(parts[1])
		var claim audit.Checkpoint
		if err != nil || json.Unmarshal(raw, &claim) != nil {
			t.Fatalf("checkpoint detail %q does not decode", e.Detail)
		}
		gap := claim.Count
		if prev >= 0 {
			gap = claim.Count - prev - 1
		}
		gaps, prev = append(gaps, gap), claim.Count
	}
	for i, g := range gaps {
		if g < 10 {
			t.Errorf("checkpoint %d covers %d events more than the one before, with every=10 (gaps %v)", i+1, g, gaps)
		}
	}
	// A checkpointer slowed by a loaded machine covers more events per checkpoint, so the count
	// below 12 is not a fault; fewer than 3 over 100 events would mean replicas wait for the
	// interval instead of counting events.
	if r.Verified < 3 {
		t.Errorf("%d checkpoints for 122 events with every=10 (gaps %v), want at least 3", r.Verified, gaps)
	}
}
