package server

import (
	"context"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/redisstore"
	"github.com/brokerhq/broker/internal/testutil/redistest"
)

// savedCursor reads a sink's cursor from Redis, as a replica's store keeps it.
func savedCursor(t *testing.T, redisURL, sink string) int64 {
	t.Helper()
	c, err := redisstore.Open(redisstore.Options{URL: redisURL})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cur, err := c.Audit().(audit.Cursors).Cursor(context.Background(), sink)
	if err != nil {
		t.Fatal(err)
	}
	return cur.Pos
}

// The server stops while events wait for the webhook; a new one on the same Redis resumes from
// the saved cursor: no gap, and (no 2xx answer having been lost) no duplicate. The file sink
// goes on appending after the restart: its lines are the chain, once each.
func TestAuditSinksResumeAfterRestartOnRedis(t *testing.T) {
	redis := redistest.Start(t)
	recv := newReceiver(t, []byte(sinkSecret))
	recv.up(recvOK)
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	opts := serverOptions{redisURL: redis.URL(), keyBackend: "redis",
		extraYAML: webhookSinkYAML(recv.URL(), writeSecretFile(t, sinkSecret), "    - file: {path: \""+path+"\"}\n")}

	a := startServer(t, opts)
	mintOne(t, a)
	first := a.chain(t)
	waitFor(t, "the first events", func() bool { got, _ := recv.received(); return hasChain(got, first) })
	recv.setMode(recv500)
	for range 3 {
		mintOne(t, a)
	}
	waitFor(t, "a 500 answer", func() bool { return recv.answered(500) >= 1 })
	before := a.chain(t)
	a.stop()
	stopped := len(before)
	if at := savedCursor(t, redis.URL(), "siem"); at == 0 || at >= int64(stopped) {
		t.Fatalf("cursor %d at the stop, want events both delivered and pending (chain of %d)", at, stopped)
	}

	b := startServer(t, opts)
	recv.setMode(recvOK)
	mintOne(t, b)
	want := b.chain(t)
	if len(want) <= stopped || !reflect.DeepEqual(want[:stopped], before) {
		t.Fatal("the restarted server does not continue the chain")
	}
	waitFor(t, "every event after the restart", func() bool { got, _ := recv.received(); return hasChain(got, want) })
	got, dups := recv.received()
	if dups != 0 {
		t.Errorf("%d events delivered twice though every 2xx was saved", dups)
	}
	if err := audit.Verify(got); err != nil || got[0].Prev != "" {
		t.Errorf("received events do not form the chain from its start: %v", err)
	}
	waitFor(t, "the file to hold the chain", func() bool {
		fe, ch := fileEvents(t, path), b.chain(t)
		if len(fe) > len(ch) {
			t.Fatalf("the file holds %d events, more than the chain's %d", len(fe), len(ch))
		}
		return reflect.DeepEqual(fe, ch)
	})
	if p := recv.problems(); len(p) > 0 {
		t.Errorf("bad requests: %v", p)
	}
}

// Two replicas on one Redis: one at a time delivers to the sink; when it stops, the other
// takes over from the saved cursor and the receiver still gets every event.
func TestAuditSinkOneReplicaAtATime(t *testing.T) {
	redis := redistest.Start(t)
	recv := newReceiver(t, []byte(sinkSecret))
	recv.up(recvOK)
	opts := serverOptions{redisURL: redis.URL(), keyBackend: "redis", extraYAML: webhookSinkYAML(recv.URL(), writeSecretFile(t, sinkSecret), "")}
	rs := startReplicas(t, 2, opts)
	for i := range 6 {
		mintOne(t, rs[i%2])
	}
	want := rs[0].chain(t)
	waitFor(t, "every event", func() bool { got, _ := recv.received(); return hasChain(got, want) })
	leader, other := rs[0], rs[1]
	if !leader.srv.sinks.Stats()[0].Leader {
		leader, other = other, leader
	}
	if !leader.srv.sinks.Stats()[0].Leader || other.srv.sinks.Stats()[0].Leader {
		t.Fatalf("leaders: %v and %v, want exactly one", rs[0].srv.sinks.Stats(), rs[1].srv.sinks.Stats())
	}
	leader.stop()
	for range 3 {
		mintOne(t, other)
	}
	want = other.chain(t)
	waitFor(t, "every event after the leader stopped", func() bool { got, _ := recv.received(); return hasChain(got, want) })
	if !other.srv.sinks.Stats()[0].Leader {
		t.Error("the remaining replica did not take the lease")
	}
	recv.mu.Lock()
	defer recv.mu.Unlock()
	if recv.maxInFlight > 1 {
		t.Errorf("%d deliveries to the sink at once", recv.maxInFlight)
	}
}
