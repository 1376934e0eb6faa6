package redisstore_test

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/ratelimit"
	"github.com/brokerhq/broker/internal/redisstore"
	"github.com/brokerhq/broker/internal/runs"
	"github.com/brokerhq/broker/internal/testutil/redistest"
	"github.com/brokerhq/broker/keys"
	"github.com/brokerhq/broker/keys/keystest"
)

// outageTimeout is the client timeout of the outage tests.
const outageTimeout = 500 * time.Millisecond

// hangBound is how long a call may take against an unreachable Redis: a bound on a hang, not a
// speed requirement.
const hangBound = 3 * time.Second

// recoveryWait bounds how long a client may take to notice that Redis is back (go-redis probes
// a failed server about once a second).
const recoveryWait = 10 * time.Second

// outageCall is one call of the store, the key backend or the limiter, and the sentinel its
// error must wrap when Redis is out of reach.
type outageCall struct {
	name string
	want error
	call func(ctx context.Context) error
}

// outageCalls lists every call of c's views; secrets are strings its errors must not contain.
func outageCalls(t *testing.T, c *redisstore.Client) (calls []outageCall, secrets []string) {
	store, backend := c.Runs(), c.Keys(newKEK(t))
	limiter := c.Limiter(ratelimit.Policy{AuthFailures: 3, Window: time.Minute, Cooloff: time.Minute})
	run, token := newRun(t, runs.Tracked, time.Hour)
	hash := runs.HashToken(token)
	key := keystest.NewKey(t, keys.ES256, time.Now())
	secrets = []string{token, hex.EncodeToString(hash[:])}
	calls = []outageCall{
		{"Runs.Create", runs.ErrUnavailable, func(ctx context.Context) error { return store.Create(ctx, run, hash) }},
		{"Runs.Get", runs.ErrUnavailable, func(ctx context.Context) error { _, err := store.Get(ctx, run.ID); return err }},
		{"Runs.GetByToken", runs.ErrUnavailable, func(ctx context.Context) error { _, err := store.GetByToken(ctx, hash); return err }},
		{"Runs.Update", runs.ErrUnavailable, func(ctx context.Context) error {
			_, err := store.Update(ctx, run.ID, moveTo(runs.Planning))
			return err
		}},
		{"Runs.Ping", runs.ErrUnavailable, store.Ping},
		{"Keys.Load", redisstore.ErrUnavailable, func(ctx context.Context) error { _, err := backend.Load(ctx); return err }},
		{"Keys.Save", redisstore.ErrUnavailable, func(ctx context.Context) error {
			return backend.Save(ctx, keys.Set{Generation: 1, Keys: []keys.Key{key}})
		}},
		{"Limiter.Failed", ratelimit.ErrUnavailable, func(ctx context.Context) error { _, err := limiter.Failed(ctx, "ip:10.0.0.9"); return err }},
		{"Client.Ping", redisstore.ErrUnavailable, c.Ping},
	}
	return calls, secrets
}

// checkUnavailable runs every call and fails t unless each fails, within hangBound, with an
// error wrapping its sentinel (and redisstore.ErrUnavailable) that quotes no secret.
func checkUnavailable(t *testing.T, calls []outageCall, secrets []string) {
	t.Helper()
	ctx := context.Background()
	for _, oc := range calls {
		start := time.Now()
		err := oc.call(ctx)
		elapsed := time.Since(start)
		t.Logf("%s: %s: %v", oc.name, elapsed.Round(time.Millisecond), err)
		switch {
		case err == nil:
			t.Errorf("%s succeeded without Redis", oc.name)
			continue
		case !errors.Is(err, oc.want) || !errors.Is(err, redisstore.ErrUnavailable):
			t.Errorf("%s error = %v; want it to wrap %q and %q", oc.name, err, oc.want, redisstore.ErrUnavailable)
		}
		if elapsed > hangBound {
			t.Errorf("%s took %s to fail with a %s timeout; want at most %s", oc.name, elapsed, outageTimeout, hangBound)
		}
		for _, s := range secrets {
			if strings.Contains(err.Error(), s) {
				t.Errorf("%s error quotes a secret: %v", oc.name, err)
			}
		}
	}
}

// TestOutageAndRecovery stops Redis under a client, checks every call fails fast with the
// right error, restarts Redis and checks the same client recovers with the data intact.
func TestOutageAndRecovery(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	c := open(t, srv, uniquePrefix(), outageTimeout)
	store, backend := c.Runs(), c.Keys(newKEK(t))
	before, token := createRun(t, store, time.Hour)
	key := keystest.NewKey(t, keys.ES256, time.Now())
	if err := backend.Save(ctx, keys.Set{Generation: 1, Keys: []keys.Key{key}}); err != nil {
		t.Fatalf("Save: %v", err)
	}

	srv.Stop()
	calls, secrets := outageCalls(t, c)
	checkUnavailable(t, calls, append(secrets, token))

	srv.Restart()
	deadline := time.Now().Add(recoveryWait)
	for {
		err := store.Ping(ctx)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("client still failing %s after Redis restarted: %v", recoveryWait, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got, err := store.GetByToken(ctx, runs.HashToken(token)); err != nil || got.ID != before.ID {
		t.Fatalf("run created before the outage: GetByToken = %+v, %v", got, err)
	}
	if _, err := store.Update(ctx, before.ID, moveTo(runs.Planning)); err != nil {
		t.Fatalf("Update after recovery: %v", err)
	}
	if set, err := backend.Load(ctx); err != nil || set.Generation != 1 || len(set.Keys) != 1 {
		t.Fatalf("key set after recovery: generation %d, %d keys, %v", set.Generation, len(set.Keys), err)
	}
	createRun(t, store, time.Hour)
	if _, err := c.Limiter(ratelimit.Policy{AuthFailures: 3, Window: time.Minute, Cooloff: time.Minute}).Failed(ctx, "ip:10.0.0.9"); err != nil {
		t.Fatalf("Limiter.Failed after recovery: %v", err)
	}
}

// TestUnresponsiveRedis points a client at a server that accepts connections and never
// answers: every call must still give up within the bound.
func TestUnresponsiveRedis(t *testing.T) {
	c := openSilent(t)
	calls, secrets := outageCalls(t, c)
	checkUnavailable(t, calls, secrets)
}

// TestUnresponsiveRedisQueued checks the same bound for lookups and audit appends that queue
// behind a shared round trip on its way: each waits for that round trip to fail, then fails
// its own.
func TestUnresponsiveRedisQueued(t *testing.T) {
	c := openSilent(t)
	store, trail := c.Runs(), c.Audit()
	run, token := newRun(t, runs.Tracked, time.Hour)
	calls := make(chan outageCall, 16)
	for i := range 8 {
		calls <- outageCall{"Runs.GetByToken", runs.ErrUnavailable, func(ctx context.Context) error {
			_, err := store.GetByToken(ctx, runs.HashToken(token))
			return err
		}}
		calls <- outageCall{"Audit.Append", audit.ErrUnavailable, func(ctx context.Context) error {
			_, err := trail.Append(ctx, tokenEvent(fmt.Sprintf("ev-%d", i), run), []string{run.Space})
			return err
		}}
	}
	close(calls)
	var wg sync.WaitGroup
	for oc := range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			err := oc.call(context.Background())
			elapsed := time.Since(start)
			if !errors.Is(err, oc.want) || !errors.Is(err, redisstore.ErrUnavailable) {
				t.Errorf("%s error = %v; want it to wrap %q and %q", oc.name, err, oc.want, redisstore.ErrUnavailable)
			}
			if elapsed > hangBound {
				t.Errorf("%s took %s to fail with a %s timeout; want at most %s", oc.name, elapsed, outageTimeout, hangBound)
			}
		}()
	}
	wg.Wait()
}

// openSilent returns a client of a server that accepts connections and never answers.
func openSilent(t *testing.T) *redisstore.Client {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, conn) // held open, never answered
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, conn := range conns {
			_ = conn.Close()
		}
	})
	c, err := redisstore.Open(redisstore.Options{URL: "redis://" + l.Addr().String() + "/0", Timeout: outageTimeout})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// TestClosedClient checks that calls on a closed client report unavailability.
func TestClosedClient(t *testing.T) {
	srv := redistest.Start(t)
	c := open(t, srv, uniquePrefix(), outageTimeout)
	if err := c.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	calls, secrets := outageCalls(t, c)
	checkUnavailable(t, calls, secrets)
}

func TestOpenRejectsBadOptions(t *testing.T) {
	for name, opts := range map[string]redisstore.Options{
		"no URL":           {},
		"bad scheme":       {URL: "http://127.0.0.1:6379"},
		"negative timeout": {URL: "redis://127.0.0.1:6379/0", Timeout: -time.Second},
		"URL and cluster":  {URL: "redis://127.0.0.1:6379/0", Cluster: &redisstore.Cluster{Addrs: []string{"127.0.0.1:7000"}}},
		"URL and sentinel": {URL: "redis://127.0.0.1:6379/0", Sentinel: &redisstore.Sentinel{Master: "m", Addrs: []string{"127.0.0.1:26379"}}},
		"cluster and sentinel": {Cluster: &redisstore.Cluster{Addrs: []string{"127.0.0.1:7000"}},
			Sentinel: &redisstore.Sentinel{Master: "m", Addrs: []string{"127.0.0.1:26379"}}},
		"cluster without addresses":  {Cluster: &redisstore.Cluster{}},
		"sentinel without addresses": {Sentinel: &redisstore.Sentinel{Master: "m"}},
		"sentinel without master":    {Sentinel: &redisstore.Sentinel{Addrs: []string{"127.0.0.1:26379"}}},
	} {
		if _, err := redisstore.Open(opts); err == nil {
			t.Errorf("Open(%s) succeeded", name)
		}
	}
	_, err := redisstore.Open(redisstore.Options{URL: "redis://user:s3cret@127.0.0.1:6379/0\x7f"})
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("Open(URL with a control character) = %v; want an error without the password", err)
	}
}
