package server

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/testutil/fakeclock"
	"github.com/brokerhq/broker/internal/testutil/redistest"
)

// startReplicas starts n replicas on one Redis, all answering as the first one's issuer.
func startReplicas(t *testing.T, n int, opts serverOptions) []*testServer {
	t.Helper()
	first := startServer(t, opts)
	out := []*testServer{first}
	opts.issuer = first.URL
	for i := 1; i < n; i++ {
		out = append(out, startServer(t, opts))
	}
	return out
}

// keyBackends are the two ways replicas share keys: a key set in Redis or a shared directory.
func keyBackends(t *testing.T) map[string]func() (backend, dir string) {
	return map[string]func() (string, string){
		"redis keys":           func() (string, string) { return "redis", "" },
		"shared key directory": func() (string, string) { return "file", t.TempDir() },
	}
}

func jwksKIDs(t *testing.T, ts *testServer) []string {
	t.Helper()
	var kids []string
	for kid := range fetchJWKS(t, ts) {
		kids = append(kids, kid)
	}
	slices.Sort(kids)
	return kids
}

func TestReplicasShareRunsAndKeys(t *testing.T) {
	redis := redistest.Start(t)
	for name, backend := range keyBackends(t) {
		t.Run(name, func(t *testing.T) {
			kb, dir := backend()
			rs := startReplicas(t, 3, serverOptions{redisURL: redis.URL(), keyBackend: kb, keyDir: dir})
			a, b, c := rs[0], rs[1], rs[2]
			if ka, kb, kc := jwksKIDs(t, a), jwksKIDs(t, b), jwksKIDs(t, c); !slices.Equal(ka, kb) || !slices.Equal(ka, kc) || len(ka) != 1 {
				t.Fatalf("replicas publish different key sets: %v %v %v", ka, kb, kc)
			}

			run := a.createRun(t, "vpc-prod", "TRACKED")
			tok, code := b.mint(t, run.RunToken, "aud")
			if code != 200 {
				t.Fatalf("mint on B of a run created on A: %d", code)
			}
			// Verified through A's discovery: B signs with the key A publishes.
			if c := a.verify(t, tok.Token, "aud", nil); c.RunID != run.Run.ID {
				t.Errorf("token names run %s", c.RunID)
			}
			if code := c.setPhase(t, run.Run.ID, "APPLYING"); code != 200 {
				t.Fatalf("phase on C: %d", code)
			}
			tok, _ = a.mint(t, run.RunToken, "aud")
			if c := a.verify(t, tok.Token, "aud", nil); c.Scope != "write" {
				t.Errorf("A mints scope %q after C moved the run to APPLYING", c.Scope)
			}
			if code := c.call(t, apiRequest{method: "POST", path: "/v1/runs/" + run.Run.ID + "/finish", bearer: adminSecret}); code != 200 {
				t.Fatalf("finish on C: %d", code)
			}
			for i, r := range []*testServer{a, b} {
				if _, code := r.mint(t, run.RunToken, "aud"); code != 401 {
					t.Errorf("replica %d still accepts a token finished on C: %d", i, code)
				}
			}
		})
	}
}

func TestConcurrentRotationOnReplicas(t *testing.T) {
	redis := redistest.Start(t)
	for name, backend := range keyBackends(t) {
		t.Run(name, func(t *testing.T) {
			kb, dir := backend()
			clock := fakeclock.New(time.Now().Truncate(time.Second))
			rs := startReplicas(t, 3, serverOptions{
				redisURL: redis.URL(), keyBackend: kb, keyDir: dir, now: clock.Now,
				rotation: &rotationOptions{"10m", "2m", "3m", "1m"},
			})
			// Each key set gets its own Redis prefix only per process; start from what is there.
			before := jwksKIDs(t, rs[0])
			for round := 1; round <= 3; round++ {
				clock.Advance(10 * time.Minute) // past period - prepublish: every replica wants a successor
				var wg sync.WaitGroup
				var mu sync.Mutex
				held := map[string]bool{} // new kids any replica published right after its own refresh
				start := make(chan struct{})
				for _, r := range rs {
					wg.Add(1)
					go func() {
						defer wg.Done()
						<-start
						if _, err := r.srv.Keys().Refresh(context.Background()); err != nil {
							t.Errorf("refresh: %v", err)
						}
						mu.Lock()
						defer mu.Unlock()
						for _, k := range r.srv.Keys().Snapshot().Published {
							if !slices.Contains(before, k.KID) {
								held[k.KID] = true
							}
						}
					}()
				}
				close(start)
				wg.Wait()
				if len(held) != 1 {
					t.Fatalf("round %d: the replicas created %d different new keys, want exactly 1", round, len(held))
				}
				for _, r := range rs { // a replica that lost the race picks up the winner's set
					if _, err := r.srv.Keys().Refresh(context.Background()); err != nil {
						t.Fatal(err)
					}
				}
				after := jwksKIDs(t, rs[0])
				added := 0
				for _, kid := range after {
					if !slices.Contains(before, kid) {
						added++
					}
				}
				if added != 1 {
					t.Fatalf("round %d: %d new keys (before %v, after %v), want exactly 1", round, added, before, after)
				}
				signing := rs[0].srv.Keys().Snapshot().Signing.KID
				for i, r := range rs {
					if got := jwksKIDs(t, r); !slices.Equal(got, after) {
						t.Errorf("round %d: replica %d publishes %v, replica 0 %v", round, i, got, after)
					}
					if got := r.srv.Keys().Snapshot().Signing.KID; got != signing {
						t.Errorf("round %d: replica %d signs with %s, replica 0 with %s", round, i, got, signing)
					}
				}
				before = after
			}
		})
	}
}

// TestRedisOutage stops Redis under traffic and starts it again.
func TestRedisOutage(t *testing.T) {
	redis := redistest.Start(t)
	ts := startServer(t, serverOptions{redisURL: redis.URL(), keyBackend: "redis", extraYAML: "\nlimits: {store_timeout: 500ms}\n"})
	run := ts.createRun(t, "vpc-prod", "TRACKED")
	if _, code := ts.mint(t, run.RunToken, ""); code != 200 {
		t.Fatalf("mint before the outage: %d", code)
	}

	// Background traffic through the whole outage: every answer is 200 or 503, none slow.
	stop := make(chan struct{})
	var mu sync.Mutex
	seen := map[int]int{}
	var slowest time.Duration
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			began := time.Now()
			_, code := ts.mint(t, run.RunToken, "")
			took := time.Since(began)
			mu.Lock()
			seen[code]++
			slowest = max(slowest, took)
			mu.Unlock()
			time.Sleep(20 * time.Millisecond)
		}
	}()

	redis.Stop()
	for _, c := range []struct {
		name, method, path, secret string
		body                       any
	}{
		{"create", "POST", "/v1/runs", adminSecret, map[string]string{"stack": "vpc-prod", "runType": "TRACKED"}},
		{"get", "GET", "/v1/runs/" + run.Run.ID, adminSecret, nil},
		{"mint", "POST", "/v1/token", run.RunToken, map[string]string{}},
		{"phase", "POST", "/v1/runs/" + run.Run.ID + "/phase", adminSecret, map[string]string{"phase": "PLANNING"}},
	} {
		began := time.Now()
		if code := ts.call(t, apiRequest{method: c.method, path: c.path, bearer: c.secret, body: c.body}); code != 503 {
			t.Errorf("%s while Redis is down: %d, want 503", c.name, code)
		}
		if took := time.Since(began); took > 3*time.Second {
			t.Errorf("%s while Redis is down took %v: a hang, not a quick 503", c.name, took)
		}
	}
	if r := get(t, ts.URL+"/readyz", ""); r.status != 503 {
		t.Errorf("readyz while Redis is down: %d", r.status)
	}
	for _, path := range []string{"/.well-known/openid-configuration", "/.well-known/jwks", "/healthz"} {
		if r := get(t, ts.URL+path, ""); r.status != 200 {
			t.Errorf("%s while Redis is down: %d", path, r.status)
		}
	}
	time.Sleep(300 * time.Millisecond) // let the background traffic meet the outage

	redis.Restart()
	deadline := time.Now().Add(15 * time.Second)
	for get(t, ts.URL+"/readyz", "").status != 200 {
		if time.Now().After(deadline) {
			t.Fatal("readyz did not recover after Redis came back")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if _, code := ts.mint(t, run.RunToken, ""); code != 200 {
		t.Errorf("the run created before the outage is lost: mint %d", code)
	}
	var got runAnswer
	if code := ts.call(t, apiRequest{method: "GET", path: "/v1/runs/" + run.Run.ID, bearer: adminSecret, out: &got}); code != 200 || got.Run.Phase != "INITIALIZING" {
		t.Errorf("run after recovery: %d %+v", code, got.Run)
	}
	ts.createRun(t, "vpc-prod", "TRACKED")
	close(stop)
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	for code, n := range seen {
		if code != 200 && code != 503 {
			t.Errorf("background traffic got %d %d times", n, code)
		}
	}
	if seen[503] == 0 || seen[200] == 0 {
		t.Errorf("background traffic saw %v: the outage was not exercised", seen)
	}
	if slowest > 3*time.Second {
		t.Errorf("slowest background request %v", slowest)
	}
}

func TestFailedAuthLimitedAcrossReplicas(t *testing.T) {
	redis := redistest.Start(t)
	rs := startReplicas(t, 2, serverOptions{redisURL: redis.URL(), keyBackend: "redis",
		extraYAML: "\nlimits: {auth_failures: 5, window: 1m, cooloff: 2s}\n"})
	a, b := rs[0], rs[1]
	run := a.createRun(t, "vpc-prod", "TRACKED")
	for i := 0; i < 3; i++ {
		if _, code := a.mint(t, "brk_run_guess"+strconv.Itoa(i), ""); code != 401 {
			t.Fatalf("bad token on A: %d", code)
		}
	}
	for i := 0; i < 2; i++ {
		if code := b.call(t, apiRequest{method: "POST", path: "/v1/runs", bearer: "guessed-key", body: map[string]string{"stack": "vpc-prod", "runType": "TRACKED"}}); code != 401 {
			t.Fatalf("bad API key on B: %d", code)
		}
	}
	// Five failures across the two replicas: further failures from this address get 429 on
	// both, while the good token still works on both.
	for i, r := range rs {
		req, _ := http.NewRequest("POST", r.URL+"/v1/token", nil)
		req.Header.Set("Authorization", "Bearer brk_run_another-guess")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var env envelope
		json.NewDecoder(resp.Body).Decode(&env)
		resp.Body.Close()
		if resp.StatusCode != 429 || env.Error.Code != "rate_limited" || resp.Header.Get("Retry-After") == "" {
			t.Errorf("replica %d after 5 failures: %d %q Retry-After %q", i, resp.StatusCode, env.Error.Code, resp.Header.Get("Retry-After"))
		}
		if _, code := r.mint(t, run.RunToken, ""); code != 200 {
			t.Errorf("replica %d: good token after 5 failures: %d, want 200", i, code)
		}
	}
	time.Sleep(2500 * time.Millisecond) // the cooling-off; failures meanwhile would extend it
	if _, code := b.mint(t, "brk_run_guess-again", ""); code != 401 {
		t.Fatalf("after the cooling-off: %d, want 401", code)
	}
}

func TestFailedAuthLimitedInMemory(t *testing.T) {
	ts := startServer(t, serverOptions{extraYAML: "\nlimits: {auth_failures: 3, window: 1m, cooloff: 1m}\n"})
	run := ts.createRun(t, "vpc-prod", "TRACKED")
	for i := 0; i < 3; i++ {
		ts.mint(t, "brk_run_nope", "")
	}
	if _, code := ts.mint(t, "brk_run_nope", ""); code != 429 {
		t.Errorf("after 3 failures: %d, want 429", code)
	}
	if _, code := ts.mint(t, run.RunToken, ""); code != 200 {
		t.Errorf("good token after 3 failures: %d, want 200", code)
	}
}

// TestReplicasConvergeWithinCachePeriod: after one replica rotates, every other replica
// publishes the new key, on its own background refresh, within the max-age it advertises.
func TestReplicasConvergeWithinCachePeriod(t *testing.T) {
	redis := redistest.Start(t)
	for name, backend := range keyBackends(t) {
		t.Run(name, func(t *testing.T) {
			kb, dir := backend()
			rs := startReplicas(t, 2, serverOptions{redisURL: redis.URL(), keyBackend: kb, keyDir: dir,
				rotation: &rotationOptions{"1h", "4s", "1m", "1m"}})
			a, b := rs[0], rs[1]
			jwks := get(t, b.URL+"/.well-known/jwks", "")
			maxAge := time.Duration(cacheMaxAge(t, jwks.header.Get("Cache-Control"))) * time.Second
			if maxAge <= 0 || maxAge >= 4*time.Second {
				t.Fatalf("max-age %v, want under prepublish 4s", maxAge)
			}
			if err := a.srv.Keys().Rotate(context.Background()); err != nil {
				t.Fatal(err)
			}
			rotated := time.Now()
			want := jwksKIDs(t, a)
			for !slices.Equal(jwksKIDs(t, b), want) {
				if time.Since(rotated) > maxAge {
					t.Fatalf("replica B still publishes %v %v after the rotation; A publishes %v", jwksKIDs(t, b), time.Since(rotated), want)
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
}
