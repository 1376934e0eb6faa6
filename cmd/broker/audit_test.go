package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/testutil/redistest"
	"github.com/brokerhq/broker/internal/testutil/syncbuf"
)

// auditServer is a `broker serve` keeping its trail in a Redis the test can write behind its
// back, and its signing key in a directory the Redis does not hold: the attacker of these
// tests can write the store but not sign.
type auditServer struct {
	url string
	rdb *redis.Client
	env []string // BROKER_URL and BROKER_API_KEY for `broker audit verify`
}

const auditSecret = "audit-secret"

func startAuditServer(t *testing.T) *auditServer {
	t.Helper()
	rs := redistest.Start(t)
	dir := t.TempDir()
	addr := freeAddr(t)
	sum := sha256.Sum256([]byte(auditSecret))
	cfg := filepath.Join(dir, "broker.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`issuer: http://%s
listen: %s
store: {redis: {url: "%s"}}
keys: {backend: file, dir: %s, algorithm: ES256}
audit: {checkpoint: {every: 5, interval: 1h}}
spaces: [{id: root}]
stacks: [{id: s1, space: root}]
roles: [{id: ops, actions: [run:create, audit:read]}]
api_keys: [{id: k, secret_sha256: %s, bindings: [{role: ops, space: root}]}]
`, addr, addr, rs.URL(), filepath.Join(dir, "keys"), hex.EncodeToString(sum[:]))), 0o600)
	cmd := exec.Command(brokerBin, "serve", "--config", cfg)
	cmd.Stderr = &syncbuf.Buffer{}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	url := "http://" + addr
	waitReady(t, url)
	opts, err := redis.ParseURL(rs.URL())
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opts)
	t.Cleanup(func() { rdb.Close() })
	return &auditServer{url: url, rdb: rdb, env: []string{"BROKER_URL=" + url, "BROKER_API_KEY=" + auditSecret}}
}

// createRuns records n run.create events, one at a time, each time waiting until the server
// has written the checkpoint it made due, so checkpoints land exactly every 5 events.
func (s *auditServer) createRuns(t *testing.T, n int) {
	t.Helper()
	d := &daemon{url: s.url}
	for i := 0; i < n; i++ {
		if code := d.post(t, request{path: "/v1/runs", bearer: auditSecret, body: `{"stack":"s1","runType":"TRACKED"}`}); code != 201 {
			t.Fatalf("create run: %d", code)
		}
		s.waitNoCheckpointDue(t)
	}
}

// stored reads the chain straight from Redis.
func (s *auditServer) stored(t *testing.T) []audit.Event {
	t.Helper()
	raws, err := s.rdb.LRange(context.Background(), "broker:audit:events", 0, -1).Result()
	if err != nil {
		t.Fatal(err)
	}
	out := make([]audit.Event, len(raws))
	for i, raw := range raws {
		if err := json.Unmarshal([]byte(raw), &out[i]); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// waitNoCheckpointDue waits until fewer than every (5) events follow the last checkpoint.
func (s *auditServer) waitNoCheckpointDue(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		since := 0
		for _, e := range s.stored(t) {
			since++
			if e.Action == audit.CheckpointAction {
				since = 0
			}
		}
		if since < 5 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no checkpoint 15s after %d events with every=5", since)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// replace writes events as the whole chain, every prev and the tail recomputed, and the root and
// checkpoint indexes rebuilt: what someone who can write Redis but not sign can do.
func (s *auditServer) replace(t *testing.T, events []audit.Event) {
	t.Helper()
	ctx := context.Background()
	pipe := s.rdb.TxPipeline()
	pipe.Del(ctx, "broker:audit:events", "broker:audit:space:root", "broker:audit:space:"+audit.CheckpointIndex)
	prev := ""
	for i, e := range events {
		e.Prev = prev
		raw, _ := json.Marshal(e)
		pipe.RPush(ctx, "broker:audit:events", raw)
		pipe.RPush(ctx, "broker:audit:space:root", i)
		if e.Action == audit.CheckpointAction {
			pipe.RPush(ctx, "broker:audit:space:"+audit.CheckpointIndex, i)
		}
		var err error
		if prev, err = audit.Hash(e); err != nil {
			t.Fatal(err)
		}
	}
	pipe.Set(ctx, "broker:audit:tail", prev, 0)
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestAuditVerifyFindsTampering runs `broker audit verify` against a live server whose Redis the
// test tampers with: an intact trail is intact and says what is anchored; events after the last
// checkpoint are reported unanchored; popping the last events is found with --state; rewriting
// every event with every link recomputed is found by the signed checkpoints.
func TestAuditVerifyFindsTampering(t *testing.T) {
	s := startAuditServer(t)
	state := filepath.Join(t.TempDir(), "audit-state.json")
	s.waitNoCheckpointDue(t)
	s.createRuns(t, 8) // with the first keys' events (ES256, and RS256 for Entra), 10 events: checkpoints at #6 and #12

	r := broker(t, s.env, "audit", "verify", "--state", state)
	if r.code != 0 || !strings.Contains(r.stdout, "audit chain intact: 12 events") || !strings.Contains(r.stdout, "anchored: the first 11 events") ||
		!strings.Contains(r.stdout, "unanchored: 0 events") || !strings.Contains(r.stdout, "state saved to "+state) {
		t.Fatalf("intact trail: %+v", r)
	}

	s.createRuns(t, 2)
	r = broker(t, s.env, "audit", "verify", "--state", state)
	if r.code != 0 || !strings.Contains(r.stdout, "unanchored: 2 events") || !strings.Contains(r.stdout, "still begins with the 12 events") {
		t.Fatalf("two events after the last checkpoint: %+v", r)
	}

	events := s.stored(t)
	s.replace(t, events[:len(events)-2]) // the last two events popped
	r = broker(t, s.env, "audit", "verify", "--state", state)
	if r.code != 1 || !strings.Contains(r.stderr, "audit trail truncated") {
		t.Errorf("last events popped, with --state: %+v", r)
	}
	if r := broker(t, s.env, "audit", "verify"); r.code != 0 || !strings.Contains(r.stdout, "unanchored: 0 events") {
		t.Errorf("last events popped, without --state (nothing in the store shows it): %+v", r)
	}

	forged := s.stored(t)
	for i := range forged {
		if forged[i].Action == "run.create" {
			forged[i].Actor = "api_key:someone-else"
		}
	}
	s.replace(t, forged)
	r = broker(t, s.env, "audit", "verify")
	if r.code != 1 || !strings.Contains(r.stderr, "audit trail rewritten") {
		t.Errorf("every event rewritten, links recomputed: %+v", r)
	}

	// Checkpoints that no published key verifies anchor nothing, and the output says so.
	jwks := filepath.Join(t.TempDir(), "jwks.json")
	os.WriteFile(jwks, []byte(`{"keys":[]}`), 0o600)
	s.replace(t, events)
	r = broker(t, s.env, "audit", "verify", "--jwks", jwks)
	if r.code != 0 || !strings.Contains(r.stdout, "anchored: none") || strings.Count(r.stdout, "which the JWKS does not publish") != 2 {
		t.Errorf("verified with an empty JWKS: %+v", r)
	}
}

func TestAuditVerifyUsage(t *testing.T) {
	env := []string{"BROKER_URL=http://127.0.0.1:1", "BROKER_API_KEY=x"}
	for _, args := range [][]string{{"audit", "verify", "--space", "prod", "--state", "f"}, {"audit", "verify", "--space", "prod"}, {"audit", "list"}} {
		if r := broker(t, env, args...); r.code != 2 {
			t.Errorf("%v: %+v, want usage error", args, r)
		}
	}
	if r := broker(t, env, "audit", "verify"); r.code != 1 || !strings.Contains(r.stderr, "cannot reach broker") {
		t.Errorf("broker down: %+v", r)
	}
}
