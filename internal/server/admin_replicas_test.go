package server

import (
	"context"
	"encoding/json"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/catalog"
	awsemu "github.com/brokerhq/broker/internal/emulator/aws"
	"github.com/brokerhq/broker/internal/testutil/redistest"
)

// converge is how soon a change answered 2xx by one replica is in force on every replica
// sharing its store.
const converge = time.Second

// manyFailures keeps the failed-authentication limit out of the way of tests that poll until a
// deleted key gets 401.
const manyFailures = "\nlimits: {auth_failures: 1000, window: 1m, cooloff: 1m}\n"

// within polls cond until it holds, and fails the test if that takes longer than converge
// from start, which callers take when the change's answer arrives. It logs how long it took.
func within(t *testing.T, start time.Time, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		if time.Since(start) > converge {
			t.Fatalf("%s: not within %v", what, converge)
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Logf("%s: after %v", what, time.Since(start).Round(time.Millisecond))
}

// tryRun creates a run of stack with the ci key; it returns the answer and whether it was 201.
func (ts *testServer) tryRun(t *testing.T, stack string) (runAnswer, bool) {
	t.Helper()
	var ans runAnswer
	code := ts.call(t, apiRequest{method: "POST", path: "/v1/runs", bearer: adminSecret, body: map[string]string{"stack": stack, "runType": "TRACKED"}, out: &ans})
	return ans, code == 201
}

// keyWorks reports whether secret authenticates on ts (it lists stacks).
func (ts *testServer) keyWorks(t *testing.T, secret string) int {
	t.Helper()
	return ts.call(t, apiRequest{method: "GET", path: "/v1/stacks", bearer: secret})
}

// newKey creates an API key through ts and returns its secret.
func (ts *testServer) newKey(t *testing.T, id string) string {
	t.Helper()
	a := ts.admin(t, "POST", "/v1/api-keys", `{"id":"`+id+`","bindings":[{"role":"orchestrator","space":"prod"}]}`)
	a.expect(t, "create key "+id, 201)
	var created struct{ Secret string }
	if err := json.Unmarshal([]byte(a.body), &created); err != nil || created.Secret == "" {
		t.Fatalf("no secret in %s", a.body)
	}
	return created.Secret
}

// deafStore is a catalog store whose change notices are all lost: its replica learns of other
// replicas' changes only by polling.
type deafStore struct{ catalog.Store }

func (deafStore) Notify(ctx context.Context) <-chan struct{} {
	ch := make(chan struct{})
	go func() { <-ctx.Done(); close(ch) }()
	return ch
}

// TestAdminAcrossReplicas: two replicas on one Redis. A change answered on A is in force on A
// at once and on B within 1 s: a new stack gets runs, a deleted key gets 401, a deleted
// stack's run token gets 401; the API's objects survive restarting both; a third replica
// whose notices are all lost converges as fast by polling.
func TestAdminAcrossReplicas(t *testing.T) {
	redis := redistest.Start(t)
	opts := serverOptions{redisURL: redis.URL(), keyBackend: "redis", baseYAML: adminConfig, extraYAML: manyFailures}
	rs := startReplicas(t, 2, opts)
	a, b := rs[0], rs[1]

	// A stack created on A gets a run on B within 1 s.
	a.admin(t, "PUT", "/v1/stacks/live", `{"space":"prod"}`).expect(t, "create stack on A", 201)
	start := time.Now()
	if _, ok := a.tryRun(t, "live"); !ok {
		t.Fatal("a stack created on A has no run on A at once")
	}
	var run runAnswer
	within(t, start, "a stack created on A gets a run on B", func() (ok bool) { run, ok = b.tryRun(t, "live"); return ok })
	if _, code := a.mint(t, run.RunToken, "aud"); code != 200 {
		t.Fatalf("mint on A for a run created on B: %d", code)
	}

	// An API key created on A authenticates on B; deleted on A, it gets 401 on A at once and
	// on B within 1 s.
	secret := a.newKey(t, "temp")
	start = time.Now()
	within(t, start, "a key created on A works on B", func() bool { return b.keyWorks(t, secret) == 200 })
	a.admin(t, "DELETE", "/v1/api-keys/temp", "").expect(t, "delete key on A", 204)
	start = time.Now()
	if code := a.keyWorks(t, secret); code != 401 {
		t.Fatalf("a key deleted on A gets %d on A", code)
	}
	within(t, start, "a key deleted on A gets 401 on B", func() bool { return b.keyWorks(t, secret) == 401 })

	// A deleted stack's unfinished runs end: their tokens get 401 on both.
	a.admin(t, "DELETE", "/v1/stacks/live", "").expect(t, "delete stack on A", 204)
	start = time.Now()
	if _, code := a.mint(t, run.RunToken, "aud"); code != 401 {
		t.Fatalf("the run token of a stack deleted on A gets %d on A", code)
	}
	within(t, start, "the run token of a stack deleted on A gets 401 on B", func() bool {
		_, code := b.mint(t, run.RunToken, "aud")
		return code == 401
	})
	if _, ok := b.tryRun(t, "live"); ok {
		t.Fatal("B starts a run of a deleted stack")
	}

	// What exists before both replicas stop is there after they start again.
	a.admin(t, "PUT", "/v1/spaces/kept-space", `{"parent":"prod","inherit":true}`).expect(t, "space", 201)
	a.admin(t, "PUT", "/v1/stacks/kept", `{"space":"kept-space","labels":["k"]}`).expect(t, "stack", 201)
	a.admin(t, "PUT", "/v1/stacks/kept", `{"space":"kept-space","labels":["k2"]}`).expect(t, "stack again", 200)
	keptSecret := b.newKey(t, "kept-key")
	keptRun, ok := b.tryRun(t, "kept")
	if !ok {
		t.Fatal("no run of kept on B")
	}
	a.stop()
	b.stop()
	opts.issuer = ""
	rs = startReplicas(t, 2, opts)
	for i, r := range rs {
		r.admin(t, "GET", "/v1/stacks/kept", "").expect(t, "kept stack after a restart", 200,
			`"space":"kept-space","labels":["k2"],"managedBy":"api","version":2`)
		r.admin(t, "GET", "/v1/spaces/kept-space", "").expect(t, "kept space after a restart", 200, `"managedBy":"api","version":1`)
		r.admin(t, "GET", "/v1/stacks/live", "").expect(t, "deleted stack after a restart", 404)
		if code := r.keyWorks(t, keptSecret); code != 200 {
			t.Errorf("replica %d after a restart: a kept key gets %d", i, code)
		}
		if code := r.keyWorks(t, secret); code != 401 {
			t.Errorf("replica %d after a restart: a deleted key gets %d", i, code)
		}
		if _, code := r.mint(t, keptRun.RunToken, "aud"); code != 200 {
			t.Errorf("replica %d after a restart: a run of a kept stack gets %d", i, code)
		}
		if _, code := r.mint(t, run.RunToken, "aud"); code != 401 {
			t.Errorf("replica %d after a restart: a run of a deleted stack gets %d", i, code)
		}
	}

	// A replica that never hears a change notice still converges within 1 s, by polling.
	a = rs[0]
	opts.issuer = a.URL
	opts.catalogStore = func(s catalog.Store) catalog.Store { return deafStore{s} }
	deaf := startServer(t, opts)
	for i := range 3 {
		id := "quiet" + string(rune('a'+i))
		a.admin(t, "PUT", "/v1/stacks/"+id, `{"space":"prod"}`).expect(t, "create stack on A", 201)
		start = time.Now()
		within(t, start, "a stack created on A gets a run on a deaf replica", func() bool { _, ok := deaf.tryRun(t, id); return ok })
	}
	secret = a.newKey(t, "temp2")
	start = time.Now()
	within(t, start, "a key created on A works on a deaf replica", func() bool { return deaf.keyWorks(t, secret) == 200 })
	a.admin(t, "DELETE", "/v1/api-keys/temp2", "").expect(t, "delete key on A", 204)
	start = time.Now()
	within(t, start, "a key deleted on A gets 401 on a deaf replica", func() bool { return deaf.keyWorks(t, secret) == 401 })
}

// slowHeadStore is a catalog store whose Head replies reach the replica delay after the store
// answered them (a slow link, each reply well within limits.store_timeout), and whose change
// notices are lost, so that its replica follows by polling alone.
type slowHeadStore struct {
	catalog.Store
	delay time.Duration
}

func (s slowHeadStore) Head(ctx context.Context) (catalog.Head, error) {
	h, err := s.Store.Head(ctx)
	time.Sleep(s.delay)
	return h, err
}

func (s slowHeadStore) Notify(ctx context.Context) <-chan struct{} {
	return deafStore{s.Store}.Notify(ctx)
}

// slowReplica starts replica a on a fresh Redis, and replica b beside it whose catalog store
// answers Head 900 ms late and loses its change notices (slowHeadStore).
func slowReplica(t *testing.T) (a, b *testServer) {
	t.Helper()
	redis := redistest.Start(t)
	opts := serverOptions{redisURL: redis.URL(), keyBackend: "redis", baseYAML: adminConfig, extraYAML: manyFailures}
	a = startServer(t, opts)
	opts.issuer = a.URL
	opts.catalogStore = func(s catalog.Store) catalog.Store { return slowHeadStore{Store: s, delay: 900 * time.Millisecond} }
	return a, startServer(t, opts)
}

// TestDeletedKeyOnASlowReplica: a replica whose store replies take 900 ms accepts a key deleted
// on another for no longer than catalog.MaxStale after the deletion: a reply that left the
// store before the deletion counts from when it was asked, not from when it came. (Requests
// after that wait for a fresh read and get 401; what is measured is the last 200's arrival.)
func TestDeletedKeyOnASlowReplica(t *testing.T) {
	a, b := slowReplica(t)
	const slack = 150 * time.Millisecond // answering a request, after its key was checked
	for round := range 3 {
		id := "slow" + string(rune('a'+round))
		secret := a.newKey(t, id)
		waitUntil(t, 10*time.Second, func() bool { return b.keyWorks(t, secret) == 200 })
		time.Sleep(time.Duration(round) * 300 * time.Millisecond) // vary the phase against B's polls
		start := time.Now()
		a.admin(t, "DELETE", "/v1/api-keys/"+id, "").expect(t, "delete key on A", 204)
		var lastAccepted time.Duration
		for b.keyWorks(t, secret) == 200 {
			lastAccepted = time.Since(start)
			if lastAccepted > 5*time.Second {
				break
			}
		}
		t.Logf("round %d: B last accepted the deleted key %v after the deletion", round, lastAccepted.Round(time.Millisecond))
		if lastAccepted > catalog.MaxStale+slack {
			t.Errorf("round %d: B accepted the key deleted on A %v after the deletion, want within %v", round, lastAccepted.Round(time.Millisecond), catalog.MaxStale)
		}
	}
}

// TestDeletedStackRunsEndOnASlowReplica: the worker plane holds the same bound as API keys: on
// a replica whose store replies take 900 ms, the run of a stack deleted on another replica gets
// no token later than catalog.MaxStale after the deletion.
func TestDeletedStackRunsEndOnASlowReplica(t *testing.T) {
	a, b := slowReplica(t)
	const slack = 150 * time.Millisecond // answering a request, after its run was checked
	for round := range 3 {
		id := "slow" + string(rune('a'+round))
		a.admin(t, "PUT", "/v1/stacks/"+id, `{"space":"prod"}`).expect(t, "create stack on A", 201)
		var run runAnswer
		waitUntil(t, 10*time.Second, func() bool {
			return b.call(t, apiRequest{method: "POST", path: "/v1/runs", bearer: rootAdminSecret,
				body: map[string]string{"stack": id, "runType": "TRACKED"}, out: &run}) == 201
		})
		time.Sleep(time.Duration(round) * 300 * time.Millisecond) // vary the phase against B's polls
		start := time.Now()
		a.admin(t, "DELETE", "/v1/stacks/"+id, "").expect(t, "delete stack on A", 204)
		var lastMinted time.Duration
		for {
			if _, code := b.mint(t, run.RunToken, "aud"); code != 200 {
				break
			}
			if lastMinted = time.Since(start); lastMinted > 5*time.Second {
				break
			}
		}
		t.Logf("round %d: B last minted for the deleted stack's run %v after the deletion", round, lastMinted.Round(time.Millisecond))
		if lastMinted > catalog.MaxStale+slack {
			t.Errorf("round %d: B minted for a run of the stack deleted on A %v after the deletion, want within %v", round, lastMinted.Round(time.Millisecond), catalog.MaxStale)
		}
	}
}

// loadFailsStore is a catalog store whose full Load fails while failing is set (a catalog too
// large to read within limits.store_timeout over a slow link), while Head, the runs and the
// audit trail still answer.
type loadFailsStore struct {
	catalog.Store
	failing *atomic.Bool
}

func (s loadFailsStore) Load(ctx context.Context) (catalog.Snapshot, error) {
	if s.failing.Load() {
		return catalog.Snapshot{}, fmt.Errorf("%w: load timed out", catalog.ErrUnavailable)
	}
	return s.Store.Load(ctx)
}

// TestWorkerPlaneFailsClosedOnAStaleCatalog: a replica that cannot read the catalog stops
// serving runs from the one it holds after catalog.MaxStale, as it stops taking API keys: the
// run of a stack deleted elsewhere gets 503, never a token, until the catalog is read again.
func TestWorkerPlaneFailsClosedOnAStaleCatalog(t *testing.T) {
	redis := redistest.Start(t)
	opts := serverOptions{redisURL: redis.URL(), keyBackend: "redis", baseYAML: adminConfig, extraYAML: manyFailures}
	a := startServer(t, opts)
	failing := &atomic.Bool{}
	opts.issuer = a.URL
	opts.catalogStore = func(s catalog.Store) catalog.Store { return loadFailsStore{Store: s, failing: failing} }
	b := startServer(t, opts)
	a.admin(t, "PUT", "/v1/stacks/doomed", `{"space":"prod"}`).expect(t, "create stack on A", 201)
	var run runAnswer
	waitUntil(t, 5*time.Second, func() bool {
		return b.call(t, apiRequest{method: "POST", path: "/v1/runs", bearer: rootAdminSecret,
			body: map[string]string{"stack": "doomed", "runType": "TRACKED"}, out: &run}) == 201
	})
	failing.Store(true)
	start := time.Now()
	a.admin(t, "DELETE", "/v1/stacks/doomed", "").expect(t, "delete stack on A", 204)
	time.Sleep(catalog.MaxStale + 500*time.Millisecond - time.Since(start))
	if _, code := b.mint(t, run.RunToken, "aud"); code != 503 {
		t.Errorf("past MaxStale with the catalog unreadable, the deleted stack's run token gets %d, want 503", code)
	}
	failing.Store(false)
	waitUntil(t, 5*time.Second, func() bool { _, code := b.mint(t, run.RunToken, "aud"); return code == 401 })
}

// TestCredentialsExchangeOutlastingAStaleCatalogAreWithheld: replica B cannot read the catalog
// (loadFailsStore, the failure model of TestWorkerPlaneFailsClosedOnAStaleCatalog) while its
// runs and audit trail still answer. A credentials exchange B started before the stack was
// deleted on A ends well past catalog.MaxStale after the deletion: B must not hand the
// credentials out from a catalog it has not confirmed for that long.
func TestCredentialsExchangeOutlastingAStaleCatalogAreWithheld(t *testing.T) {
	redis := redistest.Start(t)
	emu, late := startEmulator(t)
	extra := manyFailures + fmt.Sprintf(`
integrations:
  - {id: aws-read, space: prod, aws: {role_arn: "arn:aws:iam::123456789012:role/doomed-read", sts_endpoint: %[1]q}}
`, emu.URL)
	opts := serverOptions{redisURL: redis.URL(), keyBackend: "redis", baseYAML: adminConfig, extraYAML: extra}
	a := startServer(t, opts)
	failing := &atomic.Bool{}
	opts.issuer = a.URL
	opts.catalogStore = func(s catalog.Store) catalog.Store { return loadFailsStore{Store: s, failing: failing} }
	b := startServer(t, opts)

	sts := awsemu.New(awsemu.Config{Roles: []awsemu.Role{
		{ARN: "arn:aws:iam::123456789012:role/doomed-read", Trust: awsemu.Trust{Issuer: a.URL, Audiences: []string{"sts.amazonaws.com"},
			Subject: "space:prod:stack:doomed:run_type:*:scope:read"}},
	}})
	entered, gate := holdUpstream(late, sts)

	a.admin(t, "PUT", "/v1/stacks/doomed", `{"space":"prod"}`).expect(t, "create stack on A", 201)
	a.admin(t, "PUT", "/v1/stacks/doomed/attachments/aws-read", `{"read":true}`).expect(t, "attach on A", 201)
	var run runAnswer
	waitUntil(t, 5*time.Second, func() bool {
		return b.call(t, apiRequest{method: "POST", path: "/v1/runs", bearer: rootAdminSecret,
			body: map[string]string{"stack": "doomed", "runType": "TRACKED"}, out: &run}) == 201
	})
	waitUntil(t, 5*time.Second, func() bool {
		return b.srv.catalog.Live().Load().Attached("doomed", "aws-read")
	})

	done := credentialsLater(t, b, run.RunToken, "aws")
	<-entered
	failing.Store(true)
	deleted := time.Now()
	a.admin(t, "DELETE", "/v1/stacks/doomed", "").expect(t, "delete stack on A", 204)
	time.Sleep(catalog.MaxStale + 1500*time.Millisecond)
	// Meanwhile B refuses a token for the run: its catalog is stale past MaxStale.
	if _, code := b.mint(t, run.RunToken, "aud"); code != 503 {
		t.Errorf("token on B with its catalog stale: %d, want 503", code)
	}
	close(gate)
	res := <-done
	t.Logf("credentials answered %v after the stack's deletion on A: %d", time.Since(deleted).Round(time.Millisecond), res.code)
	if res.code != 503 || res.ans.Env["AWS_ACCESS_KEY_ID"] != "" {
		t.Errorf("B answered credentials of a stack deleted on A %v earlier, from a catalog unconfirmed past MaxStale (%v): %d (credentials: %v), want 503",
			time.Since(deleted).Round(100*time.Millisecond), catalog.MaxStale, res.code, res.ans.Env["AWS_ACCESS_KEY_ID"] != "")
	}
	failing.Store(false)
}
