package server

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/keys"
)

// A key-set event is dated when it enters the trail, and names the change's time in its Detail
// when that is more than a second earlier. One queued while the store was unreachable (a
// Sentinel failover, a Cluster node down) and appended by the retry after the checkpoint the
// replica writes once the store is back is then a fresh event the next checkpoint covers, and
// `broker audit verify` of that honest trail passes. On the old code it kept the time it was
// made at, older than the checkpoint schedule allows for an unanchored event, and verify failed
// with ErrUnanchored until the next checkpoint.
func TestKeySetEventDatedWhenAppended(t *testing.T) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sign := func(_ context.Context, payload []byte) (string, error) {
		opts := (&jose.SignerOptions{}).WithType(audit.CheckpointType).WithHeader(jose.HeaderKey("kid"), "k1")
		s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: priv}, opts)
		if err != nil {
			return "", err
		}
		obj, err := s.Sign(payload)
		if err != nil {
			return "", err
		}
		return obj.CompactSerialize()
	}
	jwks := &jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &priv.PublicKey, KeyID: "k1", Algorithm: "ES256", Use: "sig"}}}
	rotated := func(gen int64, kid string, at time.Time) keys.Change {
		return keys.Change{Generation: gen, NewKID: kid, NewAlg: "ES256", Activates: at,
			InForce: keys.SetMeta{Generation: gen, Keys: []keys.Meta{{KID: kid, Alg: "ES256"}}}}
	}

	var mu sync.Mutex
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }

	ctx := context.Background()
	trail := &downMemory{Memory: audit.NewMemory()}
	cp, err := audit.NewCheckpointer(audit.CheckpointConfig{Store: trail, Sign: sign, Issuer: "https://broker.test", Space: config.RootSpace,
		Every: 1000, Interval: time.Minute, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	rec := &auditRecorder{store: cp, chain: trail, keySet: &audit.MemoryKeySet{}, now: clock}
	request := func(id string) {
		t.Helper()
		if _, err := cp.Append(ctx, audit.Event{ID: id, Time: clock().Format(time.RFC3339Nano), Actor: "api_key:x",
			Action: "run.create", Space: config.RootSpace, Outcome: audit.Success}, []string{config.RootSpace}); err != nil {
			t.Fatal(err)
		}
	}
	request("e0")
	rec.recordKeys(ctx, rotated(2, "k2", clock())) // appended at once
	advance(time.Minute)
	if ok, err := cp.Check(ctx); !ok || err != nil {
		t.Fatalf("first checkpoint: %v %v", ok, err)
	}

	// The store goes away; a key-set change is made meanwhile and waits.
	trail.down.Store(true)
	changed := clock()
	rec.recordKeys(ctx, rotated(3, "k3", changed))
	advance(2 * time.Minute)
	trail.down.Store(false)
	// Back: a request, the checkpoint due at once (the last is 2 minutes old), then the retry.
	request("e1")
	if ok, err := cp.Check(ctx); !ok || err != nil {
		t.Fatalf("checkpoint after the outage: %v %v", ok, err)
	}
	advance(20 * time.Second) // the key refresh interval (at most 30 s)
	rec.keyMu.Lock()
	rec.flushKeyEvents(ctx)
	rec.keyMu.Unlock()
	retried := clock()

	events, _, err := trail.List(ctx, config.RootSpace, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := audit.VerifyAnchored(events, audit.AnchorConfig{Issuer: "https://broker.test", Keys: jwks, Now: clock()}); err != nil {
		t.Errorf("verify of an honest trail: %v", err)
	}
	var got []audit.Event
	for _, e := range events {
		if e.Action == "keys.rotate" {
			got = append(got, e)
		}
	}
	if len(got) != 2 {
		t.Fatalf("the trail holds %d keys.rotate events, want 2", len(got))
	}
	tests := []struct {
		name string
		ev   audit.Event
		// at is the event's time; changedAt, the change's time its Detail names ("" for none).
		at        time.Time
		changedAt string
	}{
		{name: "appended at once", ev: got[0], at: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)},
		{name: "appended by the retry", ev: got[1], at: retried, changedAt: changed.Format(time.RFC3339)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if want := tt.at.Format(time.RFC3339Nano); tt.ev.Time != want {
				t.Errorf("event time %s, want %s", tt.ev.Time, want)
			}
			names := strings.Contains(tt.ev.Detail, "; changed at ")
			switch {
			case tt.changedAt == "" && names:
				t.Errorf("detail %q names a change time", tt.ev.Detail)
			case tt.changedAt != "" && !strings.HasSuffix(tt.ev.Detail, "; changed at "+tt.changedAt):
				t.Errorf("detail %q does not end with the change's time %s", tt.ev.Detail, tt.changedAt)
			}
		})
	}
}
