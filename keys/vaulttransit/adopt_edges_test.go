package vaulttransit_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/brokerhq/broker/keys"
	"github.com/brokerhq/broker/keys/vaulttransit"
)

// renewVault is a loopback fake of the Vault endpoints a Backend calls: lookup-self answers
// lookup, renew-self answers renew (400 when nil) and records each renewal's increment, and
// transit/keys/<name> answers keys[name] (404 when absent).
type renewVault struct {
	lookup map[string]any
	renew  any
	keys   map[string]map[string]any

	mu      sync.Mutex
	renewed []renewal
}

// renewal is one renew-self call: the increment it asked for, and when it came.
type renewal struct {
	increment string
	at        time.Time
}

// renewals returns the renewals so far, in order.
func (p *renewVault) renewals() []renewal {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]renewal(nil), p.renewed...)
}

// waitRenewals waits up to 10 s for n renewals and returns those so far.
func (p *renewVault) waitRenewals(n int) []renewal {
	for deadline := time.Now().Add(10 * time.Second); len(p.renewals()) < n && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	return p.renewals()
}

// startRenewVault serves p on loopback until t ends and returns its URL.
func startRenewVault(t *testing.T, p *renewVault) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.URL.Path == "/v1/auth/token/lookup-self":
			_ = json.NewEncoder(w).Encode(map[string]any{"data": p.lookup})
			return
		case r.URL.Path == "/v1/auth/token/renew-self":
			var body struct {
				Increment json.Number `json:"increment"`
			}
			_ = json.NewDecoder(r.Body).Decode(&body)
			p.mu.Lock()
			p.renewed = append(p.renewed, renewal{increment: body.Increment.String(), at: time.Now()})
			p.mu.Unlock()
			if p.renew == nil {
				w.WriteHeader(http.StatusBadRequest)
				_, _ = w.Write([]byte(`{"errors":["lease is not renewable"]}`))
				return
			}
			_ = json.NewEncoder(w).Encode(p.renew)
			return
		}
		if name, ok := strings.CutPrefix(r.URL.Path, "/v1/transit/keys/"); ok && r.Method == http.MethodGet {
			if data, ok := p.keys[name]; ok {
				_ = json.NewEncoder(w).Encode(map[string]any{"data": data})
				return
			}
		}
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"errors":[]}`))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// transitVersion is one version of a fake Transit key.
type transitVersion struct {
	pub     crypto.PublicKey
	created time.Time
}

// transitKeyData is what Vault answers for a Transit key of type typ holding versions (1, 2, ...).
func transitKeyData(t *testing.T, typ string, versions []transitVersion) map[string]any {
	t.Helper()
	list := map[string]any{}
	for i, v := range versions {
		der, err := x509.MarshalPKIXPublicKey(v.pub)
		if err != nil {
			t.Fatal(err)
		}
		list[strconv.Itoa(i+1)] = map[string]any{
			"public_key":    string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})),
			"creation_time": v.created.UTC().Format(time.RFC3339Nano),
		}
	}
	return map[string]any{"type": typ, "latest_version": len(versions), "keys": list,
		"exportable": false, "allow_plaintext_backup": false}
}

// scriptedMeta is a MemoryMeta whose Load fails with loadErr and whose Save fails with saveErr
// when they are set, counting the saves asked for.
type scriptedMeta struct {
	*vaulttransit.MemoryMeta
	loadErr, saveErr error
	saves            atomic.Int32
}

func (m *scriptedMeta) Load(ctx context.Context) (vaulttransit.Records, error) {
	if m.loadErr != nil {
		return vaulttransit.Records{}, m.loadErr
	}
	return m.MemoryMeta.Load(ctx)
}

func (m *scriptedMeta) Save(ctx context.Context, next vaulttransit.Records) error {
	m.saves.Add(1)
	if m.saveErr != nil {
		return m.saveErr
	}
	return m.MemoryMeta.Save(ctx, next)
}

// newECPublic returns a new P-256 public key.
func newECPublic(t *testing.T) *ecdsa.PublicKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &k.PublicKey
}

// TestAdoptDropsOldVersionsExactlyAtLingerPlusRetain pins when adoption leaves an older
// Transit version out: it is kept while now is before its retirement (its successor's
// activation) plus the replicas' Linger (of the configured Prepublish) plus Retain, and left
// out from that instant on, the latest version always kept.
// Guards against: "!now.Before(x)" -> "now.After(x)" in adopt.go:chainOf
// Guards against: linger left out of the drop time in adopt.go:chainOf
// Guards against: Retain left out of the drop time in adopt.go:chainOf
// Guards against: Linger computed without the configured Prepublish in adopt.go:chainOf
func TestAdoptDropsOldVersionsExactlyAtLingerPlusRetain(t *testing.T) {
	const prepublish, retain = 10 * time.Minute, time.Hour
	c1 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c2 := c1.Add(time.Hour)
	p := &renewVault{
		lookup: map[string]any{"renewable": false, "ttl": 0},
		keys: map[string]map[string]any{"k": transitKeyData(t, "ecdsa-p256", []transitVersion{
			{newECPublic(t), c1}, {newECPublic(t), c2},
		})},
	}
	addr := startRenewVault(t, p)
	retires := c2.Add(2*prepublish + retain) // version 2's activation
	drop := retires.Add(keys.Policy{Prepublish: prepublish}.Linger() + retain)
	for _, c := range []struct {
		now  time.Time
		want int
	}{{drop.Add(-time.Nanosecond), 2}, {drop, 1}} {
		b, err := vaulttransit.New(context.Background(), vaulttransit.Config{
			Address: addr, Mount: "transit", Key: "k", Alg: keys.ES256, Token: "t", Adopt: true,
			Prepublish: prepublish, Retain: retain, Now: func() time.Time { return c.now },
		})
		if err != nil {
			t.Fatal(err)
		}
		set := load(t, b)
		_ = b.Close()
		if len(set.Keys) != c.want || !set.Keys[len(set.Keys)-1].Created.Equal(c2) {
			t.Errorf("adopted at drop%+v: %v, want %d keys ending with version 2", c.now.Sub(drop), set.Metas(), c.want)
		}
	}
}

// TestAdoptErrorPaths pins how adoption meets its metadata store and Transit: a store
// that cannot load, or that fails a save for another reason than a conflict, fails New; a
// save conflict (another replica adopted first) does not; with no Transit key nothing is
// saved; with a set already stored nothing is saved either; and a Transit key of another type
// than the algorithm's (rsa-3072 for RS256, which Generate would refuse to rotate) fails New.
// Guards against: load error ignored (return nil) in adopt.go:adopt
// Guards against: save error ignored (return nil) in adopt.go:adopt
// Guards against: save conflict returned as an error in adopt.go:adopt
// Guards against: "len(adopted) == 0" early return dropped in adopt.go:adopt
// Guards against: stored-generation check dropped in adopt.go:adopt
// Guards against: checkType skipped in adopt.go:adopt
func TestAdoptErrorPaths(t *testing.T) {
	down := errors.New("store down")
	rsaKey, err := rsa.GenerateKey(rand.Reader, 3072)
	if err != nil {
		t.Fatal(err)
	}
	ec := map[string]map[string]any{"k": transitKeyData(t, "ecdsa-p256", []transitVersion{{newECPublic(t), time.Now().Add(-time.Hour)}})}
	for _, c := range []struct {
		name    string
		alg     string
		keys    map[string]map[string]any
		meta    *scriptedMeta
		stored  bool   // a set is stored before New
		wantErr string // "" when New succeeds
		saves   int32
	}{
		{name: "load fails", alg: keys.ES256, keys: ec, meta: &scriptedMeta{loadErr: down}, wantErr: "store down"},
		{name: "save fails", alg: keys.ES256, keys: ec, meta: &scriptedMeta{saveErr: down}, wantErr: "store down", saves: 1},
		{name: "save conflicts", alg: keys.ES256, keys: ec, meta: &scriptedMeta{saveErr: fmt.Errorf("%w: raced", keys.ErrConflict)}, saves: 1},
		{name: "no Transit key", alg: keys.ES256, meta: &scriptedMeta{}},
		{name: "a set already stored", alg: keys.ES256, keys: ec, meta: &scriptedMeta{}, stored: true},
		{name: "rsa-3072 for RS256", alg: keys.RS256, keys: map[string]map[string]any{
			"k": transitKeyData(t, "rsa-3072", []transitVersion{{&rsaKey.PublicKey, time.Now().Add(-time.Hour)}})},
			meta: &scriptedMeta{}, wantErr: `type "rsa-3072"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.meta.MemoryMeta = vaulttransit.NewMemoryMeta()
			if c.stored {
				if err := c.meta.MemoryMeta.Save(context.Background(), vaulttransit.Records{Generation: 1}); err != nil {
					t.Fatal(err)
				}
			}
			addr := startRenewVault(t, &renewVault{lookup: map[string]any{"renewable": false, "ttl": 0}, keys: c.keys})
			b, err := vaulttransit.New(context.Background(), vaulttransit.Config{
				Address: addr, Mount: "transit", Key: "k", Alg: c.alg, Token: "t", Adopt: true, Meta: c.meta,
				Prepublish: time.Second, Retain: time.Hour,
			})
			if b != nil {
				_ = b.Close()
			}
			switch {
			case c.wantErr == "" && err != nil:
				t.Fatalf("New = %v, want success", err)
			case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
				t.Fatalf("New = %v, want an error with %q", err, c.wantErr)
			}
			if got := c.meta.saves.Load(); got != c.saves {
				t.Errorf("adoption asked %d saves, want %d", got, c.saves)
			}
		})
	}
}
