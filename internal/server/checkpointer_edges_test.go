package server

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/testutil/fakeclock"
)

// quietYAML is a replica on the memory store whose key set is kept 24h after a key
// retires (so a checkpoint is due every 12h on a quiet chain), with a checkpoint interval of
// 48h and a checkpoint due after every event.
const quietYAML = "issuer: http://127.0.0.1:1\nlisten: 127.0.0.1:0\n" +
	"keys: {backend: memory, algorithm: ES256, " +
	"rotation: {period: 720h, prepublish: 24h, retain: 24h}}\n" +
	"audit:\n  checkpoint: {every: 1, interval: 48h}\n"

// clockedServer builds a replica from yaml with the clock now and does not serve it: no
// background loop runs, so the test alone drives its checkpointer and its sinks' counts.
func clockedServer(t *testing.T, yaml string, now func() time.Time) *Server {
	t.Helper()
	cfg, err := config.Parse("quiet.yaml", []byte(yaml))
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	opts := Options{Logger: slog.New(slog.DiscardHandler), Now: now}
	srv, err := New(context.Background(), cfg, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return srv
}

// checkAnchor runs one check of srv's checkpointer and fails the test unless it wrote a
// checkpoint exactly when want says so.
func checkAnchor(t *testing.T, srv *Server, want string) {
	t.Helper()
	wrote, err := srv.anchor.Check(context.Background())
	if err != nil {
		t.Fatalf("%s: Check: %v", want, err)
	}
	if got := map[bool]string{true: "written", false: "not due"}[wrote]; got != want {
		t.Fatalf("checkpoint %s, want %s", got, want)
	}
}

// TestCheckpointDueAtHalfRetainOnQuietChain: on a chain no event follows, a replica signs
// a new checkpoint once the latest is half of keys.rotation.retain old, even when
// audit.checkpoint.interval is longer, so the latest checkpoint is always signed by a key the
// JWKS still publishes; not a moment before.
// Guards against: audit.go:newCheckpointer MaxAge set to 0
// Guards against: audit.go:newCheckpointer MaxAge set to cp.Interval
func TestCheckpointDueAtHalfRetainOnQuietChain(t *testing.T) {
	clock := fakeclock.New(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC))
	srv := clockedServer(t, quietYAML, clock.Now)
	checkAnchor(t, srv, "written") // the start's events, with every: 1
	checkAnchor(t, srv, "not due") // quiet chain, fresh checkpoint
	clock.Advance(12*time.Hour - time.Second)
	checkAnchor(t, srv, "not due")
	clock.Advance(time.Second)
	checkAnchor(t, srv, "written")
	checkAnchor(t, srv, "not due")
}

// TestCheckpointCountsAsPendingForSinks: a checkpoint the replica appends is counted as
// pending for every sink as soon as it is appended, as an event of a request is, so the sinks
// deliver it without waiting for another event or their poll.
// Guards against: audit.go:newCheckpointer Appended no longer calls s.sinks.Notify()
func TestCheckpointCountsAsPendingForSinks(t *testing.T) {
	path := t.TempDir() + "/audit.jsonl"
	sink := fmt.Sprintf("  sinks:\n    - name: archive\n      file: {path: %q}\n", path)
	yaml := quietYAML + sink
	srv := clockedServer(t, yaml, fakeclock.New(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)).Now)
	pending := func() int64 { return srv.sinks.Stats()[0].Pending }
	before := pending()
	checkAnchor(t, srv, "written")
	if got := pending(); got != before+1 {
		t.Fatalf("pending %d after a checkpoint, want %d (%d before it)", got, before+1, before)
	}
}
