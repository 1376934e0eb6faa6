package keys_test

import (
	"context"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/testutil/fakeclock"
	"github.com/brokerhq/broker/keys"
	"github.com/brokerhq/broker/keys/keystest"
)

// TestManagerSignsOnlyWhatItPublishedForPrepublish: a rotation saved outside the replicas (as
// `broker keys rotate` does) at 100h makes a key that signs at 124h1m. Replica "prompt" picks it
// up at once; replica "late" picks it up at 110h, later than one refresh interval (its refresh
// was slow or the store unreachable), and keeps signing with the previous key after 124h1m until
// it has itself published the new one for prepublish. A replica started after the activation signs with it at once: it served
// no JWKS before.
func TestManagerSignsOnlyWhatItPublishedForPrepublish(t *testing.T) {
	clk := fakeclock.New(t0)
	b := keys.NewMemory()
	prompt := newManager(t, keys.Config{Backend: b, Policy: policy, Now: clk.Now})
	late := newManager(t, keys.Config{Backend: b, Policy: policy, Now: clk.Now})
	refresh(t, prompt)
	refresh(t, late)
	old := prompt.Snapshot().Signing.KID

	clk.Set(h(100))
	started, err := keys.StartRotation(context.Background(), keys.RotationConfig{Backend: b, Policy: policy, Now: clk.Now()})
	if err != nil || len(started) != 1 || !started[0].Activates.Equal(h(124+rh)) || started[0].Retired != old {
		t.Fatalf("StartRotation = %+v, %v; want one key signing at 124h1m retiring %s", started, err, old)
	}
	fresh := started[0].KID

	var restarted *keys.Manager
	steps := []struct {
		at float64
		// who refreshes at this step
		refresh []string
		// the signing key each replica must have ("" for a replica not started yet)
		prompt, late, restarted string
	}{
		{100, []string{"prompt"}, old, old, ""},
		{110, []string{"prompt", "late"}, old, old, ""}, // late publishes the new key only now
		{124, []string{"prompt", "late"}, old, old, ""},
		{124 + rh, []string{"prompt", "late"}, fresh, old, ""},
		{131, []string{"prompt", "late", "restarted"}, fresh, old, fresh}, // a new replica has nothing to guard
		{133.9, []string{"prompt", "late", "restarted"}, fresh, old, fresh},
		{134, []string{"prompt", "late", "restarted"}, fresh, fresh, fresh}, // 24h after late published it
	}
	for _, s := range steps {
		clk.Set(h(s.at))
		for _, who := range s.refresh {
			switch who {
			case "prompt":
				refresh(t, prompt)
			case "late":
				refresh(t, late)
			case "restarted":
				if restarted == nil {
					restarted = newManager(t, keys.Config{Backend: b, Policy: policy, Now: clk.Now})
				}
				refresh(t, restarted)
			}
		}
		for name, c := range map[string]struct {
			m    *keys.Manager
			want string
		}{"prompt": {prompt, s.prompt}, "late": {late, s.late}, "restarted": {restarted, s.restarted}} {
			if c.want == "" {
				continue
			}
			snap := c.m.Snapshot()
			if snap.Signing.KID != c.want {
				t.Errorf("%vh: %s signs with %s, want %s (old %s, new %s)", s.at, name, snap.Signing.KID, c.want, old, fresh)
			}
			if k, _ := snap.SigningFor(keys.ES256); k.KID != snap.Signing.KID {
				t.Errorf("%vh: %s: SigningFor(ES256) = %s, Signing = %s", s.at, name, k.KID, snap.Signing.KID)
			}
		}
	}
	// The late replica publishes the new key (and the retained old one): the guard never hides one.
	if kids := snapKIDs(late.Snapshot().Published); len(kids) != 2 {
		t.Errorf("late replica publishes %v, want both keys", kids)
	}
}

// TestManagerGuardKeepsTheChainsOnlyKey: a chain whose only key is due but this replica
// published less than prepublish ago still signs with it (nothing else can sign with its
// algorithm, and other replicas published it for Lead), while the other chain is untouched.
func TestManagerGuardKeepsTheChainsOnlyKey(t *testing.T) {
	e := keystest.NewKey(t, keys.ES256, t0)
	r := keystest.NewKey(t, keys.RS256, h(70))
	r.Activates = h(94 + rh)
	esOnly := keys.Set{Generation: 1, Keys: []keys.Key{e}}
	both := keys.Set{Generation: 2, Keys: []keys.Key{e, r}}
	// The replica's own attempt to add the RS256 chain loses to another replica's, which it
	// first sees at its second refresh.
	b := &fakeBackend{save: func(context.Context, keys.Set) error { return keys.ErrConflict }}
	b.load = func(context.Context) (keys.Set, error) {
		if b.loads.Load() <= 2 {
			return esOnly, nil
		}
		return both, nil
	}
	clk := fakeclock.New(h(99))
	m := newManager(t, keys.Config{Backend: b, Policy: twoChains, Now: clk.Now})
	refresh(t, m)
	if _, ok := m.Snapshot().SigningFor(keys.RS256); ok {
		t.Fatal("99h: an RS256 signer without an RS256 key")
	}
	clk.Set(h(101))
	refresh(t, m)
	snap := m.Snapshot()
	if k, ok := snap.SigningFor(keys.RS256); !ok || k.KID != r.KID {
		t.Errorf("101h: RS256 signer %s, %v; want the chain's only key %s", k.KID, ok, r.KID)
	}
	if snap.Signing.KID != e.KID {
		t.Errorf("101h: default signer %s, want the ES256 key %s", snap.Signing.KID, e.KID)
	}
}

// The guard counts from this replica's publication, never from the clock alone: a replica that
// keeps refreshing on time signs with a key exactly at its activation, Lead after it was saved.
func TestManagerGuardDoesNotDelayAPromptReplica(t *testing.T) {
	p := keys.Policy{Period: time.Hour, Prepublish: 2 * time.Second, Retain: time.Minute, Alg: keys.ES256}
	clk := fakeclock.New(t0)
	b := keys.NewMemory()
	m := newManager(t, keys.Config{Backend: b, Policy: p, Now: clk.Now})
	refresh(t, m)
	first := m.Snapshot().Signing.KID
	saved := t0.Add(10 * time.Second)
	if _, err := keys.StartRotation(context.Background(), keys.RotationConfig{Backend: b, Policy: p, Now: saved}); err != nil {
		t.Fatal(err)
	}
	for at := saved; !at.After(saved.Add(p.Lead())); at = at.Add(keys.RefreshInterval(p.Prepublish)) {
		clk.Set(at)
		refresh(t, m)
		newKey := m.Snapshot().Signing.KID != first
		if want := !at.Before(saved.Add(p.Lead())); newKey != want {
			t.Errorf("+%v after the save: new key signing = %v, want %v", at.Sub(saved), newKey, want)
		}
	}
}

// TestManagerGuardHoldsForItsOwnPrepublish: a rotation started with a shorter prepublish than the
// servers' (`broker keys rotate --dir` without --prepublish uses the default, 24h, while these
// servers publish for 72h) sets an activation the servers' rule does not allow. A replica that
// was serving when the key was saved holds it for its own prepublish; so must a replica started
// later, which cannot know when the others published it: until the key was saved the servers'
// Lead ago, it signs with the previous key.
func TestManagerGuardHoldsForItsOwnPrepublish(t *testing.T) {
	servers := keys.Policy{Period: 720 * time.Hour, Prepublish: 72 * time.Hour, Retain: 72 * time.Hour, Alg: keys.ES256}
	clk := fakeclock.New(t0)
	b := keys.NewMemory()
	running := newManager(t, keys.Config{Backend: b, Policy: servers, Now: clk.Now})
	refresh(t, running)
	old := running.Snapshot().Signing.KID

	clk.Set(h(100))
	started, err := keys.StartRotation(context.Background(), keys.RotationConfig{Backend: b, Policy: policy, Now: clk.Now()})
	if err != nil || len(started) != 1 || !started[0].Activates.Equal(h(124+rh)) {
		t.Fatalf("StartRotation = %+v, %v; want one key signing at 124h1m", started, err)
	}
	fresh := started[0].KID
	lead := servers.Lead().Hours()
	for _, s := range []struct {
		at   float64
		want string
	}{
		{100, old},
		{125, old},
		{100 + lead - 0.01, old},
		{100 + lead, fresh},
	} {
		clk.Set(h(s.at))
		refresh(t, running)
		restarted := newManager(t, keys.Config{Backend: b, Policy: servers, Now: clk.Now})
		refresh(t, restarted)
		for name, m := range map[string]*keys.Manager{"running": running, "restarted": restarted} {
			if got := m.Snapshot().Signing.KID; got != s.want {
				t.Errorf("%.2fh: %s replica signs with %s, want %s (old %s, new %s saved at 100h; servers' lead %.2fh)", s.at, name, got, s.want, old, fresh, lead)
			}
		}
	}
}
