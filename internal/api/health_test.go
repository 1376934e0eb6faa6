package api_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/api"
	"github.com/brokerhq/broker/keys"
)

type reachable struct{}

func (reachable) Ping(context.Context) error { return nil }

// snapshotAt is a key source whose one snapshot was computed at at.
type snapshotAt struct{ at time.Time }

func (s snapshotAt) Snapshot() *keys.Snapshot {
	k, err := keys.Generate(keys.ES256, s.at)
	if err != nil {
		panic(err)
	}
	return &keys.Snapshot{Signing: k, At: s.at}
}

// TestReadyWhileTheKeysAreFresh: /readyz answers 503 once the key set has not been refreshed
// for KeysStaleAfter: such a replica may serve a JWKS without a key the others sign with.
func TestReadyWhileTheKeysAreFresh(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		age  time.Duration
		want int
	}{
		{"refreshed just now", 0, http.StatusOK},
		{"refreshed within the bound", 89 * time.Second, http.StatusOK},
		{"not refreshed for longer", 91 * time.Second, http.StatusServiceUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rt := api.NewRouter()
			api.NewHealth(api.HealthConfig{Store: reachable{}, Keys: snapshotAt{now.Add(-tc.age)}, KeysStaleAfter: 90 * time.Second,
				Now: func() time.Time { return now }}).Mount(rt)
			w := httptest.NewRecorder()
			rt.ServeHTTP(w, httptest.NewRequest("GET", "/readyz", nil))
			if w.Code != tc.want {
				t.Errorf("/readyz with keys refreshed %v ago: %d %s, want %d", tc.age, w.Code, w.Body, tc.want)
			}
		})
	}
}

// blockingPinger counts its pings; each tells entered (if it has room) and waits for release or
// its context's end, and fails while down is set.
type blockingPinger struct {
	calls   atomic.Int32
	entered chan struct{}
	release chan struct{}
	down    atomic.Bool
}

func (p *blockingPinger) Ping(ctx context.Context) error {
	p.calls.Add(1)
	select {
	case p.entered <- struct{}{}:
	default:
	}
	select {
	case <-p.release:
	case <-ctx.Done():
		return ctx.Err()
	}
	if p.down.Load() {
		return errors.New("connection refused")
	}
	return nil
}

// TestReadyProbesShareOnePing: /readyz needs no credential, so probes arriving while the store's
// ping runs wait for that ping rather than each pinging the store; a probe after it ended pings
// again and sees the store's new state.
// Guards against: health.go ready pinging h.cfg.Store per request (a flood of unauthenticated
// probes making as many store round trips).
func TestReadyProbesShareOnePing(t *testing.T) {
	store := &blockingPinger{entered: make(chan struct{}, 1), release: make(chan struct{})}
	rt := api.NewRouter()
	api.NewHealth(api.HealthConfig{Store: store, Keys: snapshotAt{time.Now()}}).Mount(rt)
	probe := func(ctx context.Context) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		rt.ServeHTTP(w, httptest.NewRequest("GET", "/readyz", nil).WithContext(ctx))
		return w
	}

	first := make(chan *httptest.ResponseRecorder)
	go func() { first <- probe(context.Background()) }()
	<-store.entered
	// Probes arriving now join the ping in flight; these stop waiting at once (their contexts
	// are over), which must not start pings of their own.
	gone, cancel := context.WithCancel(context.Background())
	cancel()
	for range 20 {
		if w := probe(gone); w.Code != http.StatusServiceUnavailable {
			t.Fatalf("probe that stopped waiting: %d %s, want 503", w.Code, w.Body)
		}
	}
	if n := store.calls.Load(); n != 1 {
		t.Fatalf("21 probes during one ping made %d pings, want 1", n)
	}
	store.release <- struct{}{}
	if w := <-first; w.Code != http.StatusOK {
		t.Fatalf("probe that waited for the ping: %d %s, want 200", w.Code, w.Body)
	}

	// The ping over, the next probe pings again and sees the store gone.
	store.down.Store(true)
	next := make(chan *httptest.ResponseRecorder)
	go func() { next <- probe(context.Background()) }()
	<-store.entered
	store.release <- struct{}{}
	if w := <-next; w.Code != http.StatusServiceUnavailable || !strings.Contains(w.Body.String(), "state store is unreachable") {
		t.Fatalf("probe after the store went down: %d %s, want 503 naming the store", w.Code, w.Body)
	}
	if n := store.calls.Load(); n != 2 {
		t.Fatalf("pings after a second probe: %d, want 2", n)
	}
}
