package server

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/testutil/redistest"
)

// failoverTimeout bounds the wait for broker to mint again after the primary is killed:
// Sentinel needs its down-after (1 s) and an election; a loaded machine under -race needs more.
const failoverTimeout = 90 * time.Second

// sentinelYAML is the store.redis block of a broker on st.
func sentinelYAML(st *redistest.Sentinel) string {
	return "\nstore: {redis: {sentinel: {master: " + redistest.MasterName + ", addrs: [\"" +
		strings.Join(st.Addrs(), "\", \"") + "\"]}}}\n"
}

// clusterYAML is the store.redis block of a broker on c.
func clusterYAML(c *redistest.Cluster) string {
	return "\nstore: {redis: {cluster: {addrs: [\"" + strings.Join(c.Addrs(), "\", \"") + "\"]}}}\n"
}

// TestSentinelFailover runs broker on a Sentinel-watched primary, kills the primary with
// SIGKILL a second after creating runs, and checks that broker, without a restart, follows
// the replica the Sentinels promote: the runs are still there and their tokens mint again.
func TestSentinelFailover(t *testing.T) {
	st := redistest.StartSentinel(t)
	ts := startServer(t, serverOptions{keyBackend: "redis", extraYAML: sentinelYAML(st)})
	var created []runAnswer
	for range 5 {
		created = append(created, ts.createRun(t, "vpc-prod", "TRACKED"))
	}
	for _, r := range created {
		if _, code := ts.mint(t, r.RunToken, "aud"); code != 200 {
			t.Fatalf("mint before the failover: status %d", code)
		}
	}
	time.Sleep(time.Second)
	st.Primary.Kill()
	killed := time.Now()

	deadline := killed.Add(failoverTimeout)
	for {
		_, code := ts.mint(t, created[0].RunToken, "aud")
		if code == 200 {
			break
		}
		if code != 503 {
			t.Fatalf("mint during the failover: status %d, want 503 until it is over, then 200", code)
		}
		if time.Now().After(deadline) {
			t.Fatalf("broker still answers 503 %s after the primary was killed", failoverTimeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("first token %s after SIGKILL of the primary", time.Since(killed).Round(time.Millisecond))
	// The Sentinel that led the failover tells the others within a few seconds (its hello
	// messages); broker may have asked it before the one Master asks has heard.
	for wait := time.Now().Add(5 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		got, err := st.Master(t.Context())
		if err == nil && got == st.Replica.Addr() {
			break
		}
		if time.Now().After(wait) {
			t.Errorf("Sentinels name %q, %v as the primary; want the promoted replica %s", got, err, st.Replica.Addr())
			break
		}
	}
	for _, r := range created {
		var got runAnswer
		if code := ts.call(t, apiRequest{method: "GET", path: "/v1/runs/" + r.Run.ID, bearer: adminSecret, out: &got}); code != 200 || got.Run.ID != r.Run.ID {
			t.Errorf("run %s after the failover: status %d, %+v", r.Run.ID, code, got)
		}
		if _, code := ts.mint(t, r.RunToken, "aud"); code != 200 {
			t.Errorf("mint for run %s after the failover: status %d", r.Run.ID, code)
		}
	}
	after := ts.createRun(t, "vpc-prod", "TRACKED")
	if _, code := ts.mint(t, after.RunToken, "aud"); code != 200 {
		t.Errorf("mint for a run created after the failover: status %d", code)
	}
}

// TestClusterReplicas runs two broker replicas on a three-primary Redis Cluster: a run created
// on one mints on the other, finishing it on one revokes its token on both, and both publish
// the one key set.
func TestClusterReplicas(t *testing.T) {
	c := redistest.StartCluster(t, 3)
	rs := startReplicas(t, 2, serverOptions{keyBackend: "redis", extraYAML: clusterYAML(c)})
	a, b := rs[0], rs[1]
	if ka, kb := jwksKIDs(t, a), jwksKIDs(t, b); len(ka) != 1 || len(kb) != 1 || ka[0] != kb[0] {
		t.Fatalf("replicas publish different key sets: %v %v", ka, kb)
	}
	run := a.createRun(t, "vpc-prod", "TRACKED")
	tok, code := b.mint(t, run.RunToken, "aud")
	if code != 200 {
		t.Fatalf("mint on B of a run created on A: status %d", code)
	}
	if claims := a.verify(t, tok.Token, "aud", nil); claims.RunID != run.Run.ID {
		t.Errorf("token names run %s, want %s", claims.RunID, run.Run.ID)
	}
	if code := b.call(t, apiRequest{method: "POST", path: "/v1/runs/" + run.Run.ID + "/finish", bearer: adminSecret}); code != 200 {
		t.Fatalf("finish on B: status %d", code)
	}
	for name, r := range map[string]*testServer{"A": a, "B": b} {
		if _, code := r.mint(t, run.RunToken, "aud"); code != 401 {
			t.Errorf("mint on %s after finish: status %d, want 401", name, code)
		}
	}
}

// TestReadyzOnClusterNeedsEveryPrimary: on a Redis Cluster each primary holds some of broker's
// keys, so /readyz pings every primary, not one node: with the primary of the runs' slot dead,
// run calls answer 503 and so does every readiness probe.
func TestReadyzOnClusterNeedsEveryPrimary(t *testing.T) {
	c := redistest.StartCluster(t, 3)
	ts := startServer(t, serverOptions{keyBackend: "redis", extraYAML: clusterYAML(c) + "limits: {store_timeout: 500ms}\n"})
	if r := get(t, ts.URL+"/readyz", ""); r.status != 200 {
		t.Fatalf("readyz with every node up: %d %s", r.status, r.body)
	}
	slot, err := c.Client().ClusterKeySlot(context.Background(), "{runs}").Result()
	if err != nil {
		t.Fatal(err)
	}
	c.Nodes[int(slot)*len(c.Nodes)/16384].Kill()
	for i := range 10 {
		if r := get(t, ts.URL+"/readyz", ""); r.status != 503 {
			t.Fatalf("readiness probe %d with the primary of {runs} dead: %d %s, want 503", i, r.status, r.body)
		}
	}
}
