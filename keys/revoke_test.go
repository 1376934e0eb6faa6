package keys_test

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"testing"

	"github.com/brokerhq/broker/internal/testutil/fakeclock"
	"github.com/brokerhq/broker/keys"
)

func TestRevoke(t *testing.T) {
	tests := []struct {
		name string
		now  float64
		set  []keys.Meta
		kid  string
		want keys.Decision
	}{{
		name: "the signing key: replaced now",
		now:  10,
		set:  []keys.Meta{meta("a", hours{})},
		kid:  "a",
		want: keys.Decision{Alg: keys.ES256, Generate: true, Activates: h(10), Drop: []string{"a"}},
	}, {
		name: "a pending successor: dropped, the signer retires now, a new key signs now",
		now:  710,
		set:  []keys.Meta{meta("a", hours{retires: 720}), meta("b", hours{created: 696 - rh, activates: 720})},
		kid:  "b",
		want: keys.Decision{Alg: keys.ES256, Generate: true, Activates: h(710), Retire: "a", Retires: h(710), Drop: []string{"b"}},
	}, {
		name: "a retired key: dropped, the signer retires now",
		now:  730,
		set:  []keys.Meta{meta("a", hours{retires: 720}), meta("b", hours{created: 696 - rh, activates: 720})},
		kid:  "a",
		want: keys.Decision{Alg: keys.ES256, Generate: true, Activates: h(730), Retire: "b", Retires: h(730), Drop: []string{"a"}},
	}, {
		name: "another chain is left alone",
		now:  10,
		set:  []keys.Meta{meta("a", hours{}), {KID: "r", Alg: keys.RS256, Created: h(0), Activates: h(0)}},
		kid:  "r",
		want: keys.Decision{Alg: keys.RS256, Generate: true, Activates: h(10), Drop: []string{"r"}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := keys.Revoke(h(tt.now), tt.set, tt.kid)
			if err != nil {
				t.Fatalf("Revoke: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Revoke = %+v\nwant     %+v", got, tt.want)
			}
		})
	}
	if _, err := keys.Revoke(h(1), []keys.Meta{meta("a", hours{})}, "nope"); !errors.Is(err, keys.ErrUnknownKey) {
		t.Fatalf("Revoke(unknown kid) = %v, want ErrUnknownKey", err)
	}
}

// TestRevokeKeySignsAtOnceEverywhere: a key revoked outside the replicas leaves every replica's
// published keys at its next refresh and its replacement signs there at once, although a
// rotated key would wait for prepublish (the per-replica guard): the guard must not keep the
// chain on a retired key or on the revoked one.
func TestRevokeKeySignsAtOnceEverywhere(t *testing.T) {
	clk := fakeclock.New(t0)
	b := keys.NewMemory()
	a := newManager(t, keys.Config{Backend: b, Policy: policy, Now: clk.Now})
	refresh(t, a)
	clk.Set(h(100))
	if _, err := keys.StartRotation(context.Background(), keys.RotationConfig{Backend: b, Policy: policy, Now: clk.Now()}); err != nil {
		t.Fatal(err)
	}
	refresh(t, a)
	clk.Set(h(130)) // the successor signs; the first key is retired
	refresh(t, a)
	leaked := a.Snapshot().Signing.KID
	other := newManager(t, keys.Config{Backend: b, Policy: policy, Now: clk.Now})
	refresh(t, other)

	clk.Set(h(131))
	rev, err := keys.RevokeKey(context.Background(), keys.RevokeConfig{Backend: b, KID: leaked, Now: clk.Now()})
	if err != nil {
		t.Fatalf("RevokeKey: %v", err)
	}
	if rev.NewKID == "" || rev.NewKID == leaked || rev.Alg != keys.ES256 {
		t.Fatalf("RevokeKey = %+v", rev)
	}
	clk.Set(h(131.01))
	for name, m := range map[string]*keys.Manager{"a": a, "other": other} {
		refresh(t, m)
		snap := m.Snapshot()
		if snap.Signing.KID != rev.NewKID {
			t.Errorf("replica %s signs with %s after the revocation, want the replacement %s", name, snap.Signing.KID, rev.NewKID)
		}
		if slices.Contains(snapKIDs(snap.Published), leaked) {
			t.Errorf("replica %s still publishes the revoked key %s: %v", name, leaked, snapKIDs(snap.Published))
		}
	}
	if _, err := keys.RevokeKey(context.Background(), keys.RevokeConfig{Backend: b, KID: leaked, Now: clk.Now()}); !errors.Is(err, keys.ErrUnknownKey) {
		t.Fatalf("revoking %s again = %v, want ErrUnknownKey", leaked, err)
	}
	// The schedule goes on from the replacement: its successor comes a period later.
	clk.Set(h(131 + 700))
	refresh(t, a)
	clk.Set(h(131 + 725))
	refresh(t, a)
	if got := a.Snapshot().Signing.KID; got == rev.NewKID {
		t.Errorf("a period after the revocation the replacement %s still signs", got)
	}
}
