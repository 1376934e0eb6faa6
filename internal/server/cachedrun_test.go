package server

import (
	"context"
	"regexp"
	"strconv"
	"testing"

	"github.com/brokerhq/broker/internal/testutil/redistest"
)

// evalCalls is how many scripts redis has run so far.
func evalCalls(t *testing.T, redis *redistest.Server) int {
	t.Helper()
	info, err := redis.Client().Info(context.Background(), "commandstats").Result()
	if err != nil {
		t.Fatalf("INFO commandstats: %v", err)
	}
	m := regexp.MustCompile(`cmdstat_evalsha:calls=(\d+)`).FindStringSubmatch(info)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// TestCachedRunStaysCurrent: a replica mints a run's later tokens from the run as it last read
// it, with one script on Redis (the audit append) instead of two, and still never hands out a
// token of a run that another replica has changed since: after B moves the run to APPLYING,
// A's next token has the write scope, and after B finishes the run, A answers 401. Every
// token handed out has its event, and the token minted from the stale run has none.
func TestCachedRunStaysCurrent(t *testing.T) {
	redis := redistest.Start(t)
	rs := startReplicas(t, 2, serverOptions{redisURL: redis.URL(), keyBackend: "redis"})
	a, b := rs[0], rs[1]
	run := b.createRun(t, "vpc-prod", "TRACKED")

	// The first token reads the run; each later one runs only the audit append's script
	// (the fewest of three is taken, in case a background task ran one meanwhile).
	fewest := -1
	for i := range 4 {
		before := evalCalls(t, redis)
		tok, code := a.mint(t, run.RunToken, "aud")
		if code != 200 {
			t.Fatalf("mint %d on A: %d", i, code)
		}
		scripts := evalCalls(t, redis) - before
		if c := a.verify(t, tok.Token, "aud", nil); c.Scope != "read" {
			t.Fatalf("mint %d on A has scope %q, want read", i, c.Scope)
		}
		if i > 0 && (fewest < 0 || scripts < fewest) {
			fewest = scripts
		}
	}
	if fewest != 1 {
		t.Errorf("a later token of the run ran %d scripts on Redis, want 1 (the audit append)", fewest)
	}
	if code := b.setPhase(t, run.Run.ID, "APPLYING"); code != 200 {
		t.Fatalf("phase on B: %d", code)
	}
	tok, code := a.mint(t, run.RunToken, "aud")
	if code != 200 {
		t.Fatalf("mint on A after B moved the run: %d", code)
	}
	if c := a.verify(t, tok.Token, "aud", nil); c.Scope != "write" {
		t.Fatalf("A mints scope %q after B moved the run to APPLYING, want write", c.Scope)
	}
	if code := b.call(t, apiRequest{method: "POST", path: "/v1/runs/" + run.Run.ID + "/finish", bearer: adminSecret}); code != 200 {
		t.Fatalf("finish on B: %d", code)
	}
	if _, code := a.mint(t, run.RunToken, "aud"); code != 401 {
		t.Fatalf("A mints for a run B finished: %d, want 401", code)
	}
	issued := 0
	for _, e := range auditEvents(t, a, "prod", 100) {
		if e.Action == "token.issue" && e.Run == run.Run.ID {
			issued++
		}
	}
	if issued != 5 {
		t.Errorf("%d token.issue events for the run, want 5 (one per token handed out)", issued)
	}
}
