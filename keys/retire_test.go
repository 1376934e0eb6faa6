package keys_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/testutil/fakeclock"
	"github.com/brokerhq/broker/keys"
)

// A retired key stays in the JWKS while tokens it signed are valid, when a rotation was started
// with a shorter prepublish than the servers' (`broker keys rotate --dir` without --prepublish
// uses 24h): the servers keep signing with the old key past its Retires, until their own Lead
// after the successor was saved, and the old key stays published Retain after that. Servers:
// prepublish 48h, retain 24h, tokens.ttl 24h (retain may equal the ttl).
func TestRetiredKeyOutlivesItsTokens(t *testing.T) {
	servers := keys.Policy{Period: 720 * time.Hour, Prepublish: 48 * time.Hour, Retain: 24 * time.Hour, Alg: keys.ES256}
	ttl := 24 * time.Hour
	clk := fakeclock.New(t0)
	b := keys.NewMemory()
	m := newManager(t, keys.Config{Backend: b, Policy: servers, Now: clk.Now, TokenTTL: ttl})
	refresh(t, m)

	cli := keys.DefaultPolicy() // what `broker keys rotate --dir DIR` uses without flags
	clk.Set(h(100))
	if _, err := keys.StartRotation(context.Background(), keys.RotationConfig{Backend: b, Policy: cli, Now: clk.Now()}); err != nil {
		t.Fatal(err)
	}
	type obs struct {
		at        time.Time
		signing   string
		published []string
	}
	var hist []obs
	step := keys.RefreshInterval(servers.Prepublish)
	for at := h(100); at.Before(h(200)); at = at.Add(step) {
		clk.Set(at)
		refresh(t, m)
		s := m.Snapshot()
		hist = append(hist, obs{at, s.Signing.KID, snapKIDs(s.Published)})
	}
	lastSign := map[string]time.Time{}
	for _, o := range hist {
		lastSign[o.signing] = o.at
	}
	for kid, signedAt := range lastSign {
		for _, o := range hist {
			if o.at.After(signedAt) && o.at.Before(signedAt.Add(ttl)) && !slices.Contains(o.published, kid) {
				t.Fatalf("key %s signed a token at %s (valid until %s) but is no longer in the JWKS at %s (published %v)",
					kid, signedAt.Sub(t0), signedAt.Add(ttl).Sub(t0), o.at.Sub(t0), o.published)
			}
		}
	}
}

// A replica that published a new key late (it missed refreshes for 10h) holds it back, the old
// key signing meanwhile, but never so late that the old key's tokens outlive its place in the
// other replicas' JWKS. Same policy everywhere: prepublish = retain = tokens.ttl = 24h.
func TestLateReplicaNeverSignsWithADroppedKey(t *testing.T) {
	p := keys.Policy{Period: 720 * time.Hour, Prepublish: 24 * time.Hour, Retain: 24 * time.Hour, Alg: keys.ES256}
	ttl := 24 * time.Hour
	clk := fakeclock.New(t0)
	b := keys.NewMemory()
	prompt := newManager(t, keys.Config{Backend: b, Policy: p, Now: clk.Now, TokenTTL: ttl})
	late := newManager(t, keys.Config{Backend: b, Policy: p, Now: clk.Now, TokenTTL: ttl})
	refresh(t, prompt)
	refresh(t, late)
	step := keys.RefreshInterval(p.Prepublish)
	start := t0.Add(p.Period - p.Lead() - time.Hour)
	savedAt := time.Time{}
	var lateSigned = map[string]time.Time{}
	var publishedEverywhere = map[time.Time][]string{}
	for at := start; at.Before(start.Add(100 * time.Hour)); at = at.Add(step) {
		clk.Set(at)
		refresh(t, prompt)
		if savedAt.IsZero() && len(prompt.Snapshot().Published) > 1 {
			savedAt = at
		}
		if savedAt.IsZero() || at.Sub(savedAt) >= 10*time.Hour || at.Equal(start) {
			refresh(t, late)
		}
		lateSigned[late.Snapshot().Signing.KID] = at
		publishedEverywhere[at] = snapKIDs(prompt.Snapshot().Published)
	}
	for kid, signedAt := range lateSigned {
		for at, pub := range publishedEverywhere {
			if at.After(signedAt) && at.Before(signedAt.Add(ttl)) && !slices.Contains(pub, kid) {
				t.Fatalf("late replica signed with %s at %s (valid until %s), but prompt replica's JWKS lacks it at %s",
					kid, signedAt.Sub(t0), signedAt.Add(ttl).Sub(t0), at.Sub(t0))
			}
		}
	}
}

// Revoking the signing key while its successor is pending gives a replacement that signs at once
// with no Retires; when the pending successor takes over, the replacement retires, and leaves
// the JWKS (and the store) Retain later, like any retired key.
func TestRevokeDuringPendingRotationRetiresTheReplacement(t *testing.T) {
	clk := fakeclock.New(t0)
	b := keys.NewMemory()
	m := newManager(t, keys.Config{Backend: b, Policy: policy, Now: clk.Now})
	refresh(t, m)
	signing := m.Snapshot().Signing.KID
	clk.Set(h(100))
	if _, err := keys.StartRotation(context.Background(), keys.RotationConfig{Backend: b, Policy: policy, Now: clk.Now()}); err != nil {
		t.Fatal(err)
	}
	refresh(t, m)
	clk.Set(h(110))
	rev, err := keys.RevokeKey(context.Background(), keys.RevokeConfig{Backend: b, KID: signing, Now: clk.Now()})
	if err != nil {
		t.Fatal(err)
	}
	var stoppedSigning time.Time
	for at := 110.0; at <= 2000; at += 0.5 {
		clk.Set(h(at))
		refresh(t, m)
		snap := m.Snapshot()
		if snap.Signing.KID != rev.NewKID && stoppedSigning.IsZero() {
			stoppedSigning = clk.Now()
		}
		if !stoppedSigning.IsZero() && clk.Now().After(stoppedSigning.Add(policy.Retain+policy.Period)) &&
			slices.Contains(snapKIDs(snap.Published), rev.NewKID) {
			set, _ := b.Load(context.Background())
			for _, k := range set.Keys {
				if k.KID == rev.NewKID {
					t.Fatalf("replacement key %s stopped signing at %s but is still published at %s (its meta: activates %s, retires %v)",
						rev.NewKID, stoppedSigning.Sub(t0), clk.Now().Sub(t0), k.Activates.Sub(t0), k.Retires)
				}
			}
		}
	}
}

// A change a replica puts in force without having saved it is told to OnLoad, once, with what
// it changed: another replica's rotation (a key published, the signing one retired), an
// operator's revocation (a key gone before it expired). The replica whose save it was is told
// through OnChange only.
func TestOnLoadTellsChangesSavedElsewhere(t *testing.T) {
	clk := fakeclock.New(t0)
	b := keys.NewMemory()
	var loadedA, loadedB []keys.Loaded
	a := newManager(t, keys.Config{Backend: b, Policy: policy, Now: clk.Now, OnLoad: func(_ context.Context, l keys.Loaded) { loadedA = append(loadedA, l) }})
	bm := newManager(t, keys.Config{Backend: b, Policy: policy, Now: clk.Now, OnLoad: func(_ context.Context, l keys.Loaded) { loadedB = append(loadedB, l) }})
	refresh(t, a)
	refresh(t, bm)
	first := a.Snapshot().Signing.KID
	clk.Set(h(100))
	if err := a.Rotate(context.Background()); err != nil {
		t.Fatal(err)
	}
	refresh(t, bm)
	refresh(t, bm) // nothing new: told once
	if len(loadedA) != 0 {
		t.Errorf("the replica that saved the rotation was told of it on load: %+v", loadedA)
	}
	if len(loadedB) != 1 || len(loadedB[0].Published) != 1 || len(loadedB[0].Retired) != 1 || loadedB[0].Retired[0].KID != first {
		t.Fatalf("the other replica was told %+v, want the new key published and %s retired, once", loadedB, first)
	}
	rev, err := keys.RevokeKey(context.Background(), keys.RevokeConfig{Backend: b, KID: first, Now: clk.Now()})
	if err != nil {
		t.Fatal(err)
	}
	refresh(t, a)
	if len(loadedA) != 1 || !slices.Equal(loadedA[0].Revoked, []string{rev.KID}) || len(loadedA[0].Dropped) != 0 {
		t.Fatalf("after the revocation the replica was told %+v, want %s revoked", loadedA, rev.KID)
	}
}
