package server

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/brokerhq/broker/internal/testutil/redistest"
)

// TestReplicaStartedOnWipedRedisKeepsTheKeySet: replica A serves, signing with key K_A. Redis
// restarts empty, and replica C starts (a rolling restart, a scale-up) before A's next key
// refresh, making a key K_C as on a first start. Once they agree, both publish K_A (A's tokens
// are still valid) and K_C (C's too).
// Guards against: keys/wentback.go load taking C's set (generation 1, as A's) and dropping K_A.
func TestReplicaStartedOnWipedRedisKeepsTheKeySet(t *testing.T) {
	redis := redistest.Start(t)
	opts := serverOptions{redisURL: redis.URL(), keyBackend: "redis", keyRefresh: 3 * time.Second}
	a := startServer(t, opts)
	kids := func(ts *testServer) []string {
		var set jose.JSONWebKeySet
		if err := json.Unmarshal(get(t, ts.URL+"/.well-known/jwks", "").body, &set); err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, k := range set.Keys {
			out = append(out, k.KeyID)
		}
		return out
	}
	run := a.createRun(t, "vpc-prod", "TRACKED")
	tok, code := a.mint(t, run.RunToken, "")
	if code != 200 {
		t.Fatalf("mint on A: %d", code)
	}
	kidA, _ := jwtHeader(t, tok.Token)["kid"].(string)

	if err := redis.Client().FlushAll(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	opts.issuer, opts.keyRefresh = a.URL, 200*time.Millisecond
	c := startServer(t, opts)
	runC := c.createRun(t, "vpc-prod", "TRACKED")
	tokC, code := c.mint(t, runC.RunToken, "")
	if code != 200 {
		t.Fatalf("mint on C: %d", code)
	}
	kidC, _ := jwtHeader(t, tokC.Token)["kid"].(string)
	// Wait until A and C publish the same set (their next key refreshes).
	for deadline := time.Now().Add(6 * time.Second); !slices.Equal(kids(a), kids(c)); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("A (%v) and C (%v) never agree on the key set", kids(a), kids(c))
		}
	}
	for name, ts := range map[string]*testServer{"A": a, "C": c} {
		if pub := kids(ts); !slices.Contains(pub, kidA) {
			t.Errorf("%s's JWKS %v dropped %s, the key of A's still-valid token", name, pub, kidA)
		}
		if pub := kids(ts); !slices.Contains(pub, kidC) {
			t.Errorf("%s's JWKS %v lacks %s, the key of C's still-valid token", name, pub, kidC)
		}
	}
}
