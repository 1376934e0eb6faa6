package keystest

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/brokerhq/broker/keys"
)

// epoch is the creation time of the keys the suite generates.
var epoch = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// NewKey generates a key of alg created at now, failing t on error.
func NewKey(t testing.TB, alg string, now time.Time) keys.Key {
	t.Helper()
	k, err := keys.Generate(alg, now)
	if err != nil {
		t.Fatalf("Generate(%q): %v", alg, err)
	}
	return k
}

// SignAndVerify signs a message with signer as alg prescribes and verifies the signature with
// pub (crypto/rsa PKCS #1 v1.5 or ecdsa ASN.1, over SHA-256), failing t if either fails.
func SignAndVerify(t testing.TB, alg string, signer crypto.Signer, pub crypto.PublicKey) {
	t.Helper()
	digest := sha256.Sum256([]byte("header.payload"))
	sig, err := signer.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	switch alg {
	case keys.RS256:
		p, ok := pub.(*rsa.PublicKey)
		if !ok {
			t.Fatalf("public key is %T, want *rsa.PublicKey", pub)
		}
		if err := rsa.VerifyPKCS1v15(p, crypto.SHA256, digest[:], sig); err != nil {
			t.Fatalf("RS256 signature does not verify: %v", err)
		}
	case keys.ES256:
		p, ok := pub.(*ecdsa.PublicKey)
		if !ok {
			t.Fatalf("public key is %T, want *ecdsa.PublicKey", pub)
		}
		if !ecdsa.VerifyASN1(p, digest[:], sig) {
			t.Fatal("ES256 signature does not verify")
		}
	default:
		t.Fatalf("unknown alg %q", alg)
	}
}

// SameMeta reports whether a and b describe the same key (times compared as instants).
func SameMeta(a, b keys.Meta) bool {
	return a.KID == b.KID && a.Alg == b.Alg && a.Created.Equal(b.Created) &&
		a.Activates.Equal(b.Activates) && a.Retires.Equal(b.Retires)
}

// TestBackend runs the Backend contract against fresh backends made by newBackend, which must
// return an empty backend each time.
func TestBackend(t *testing.T, newBackend func(t *testing.T) keys.Backend) {
	t.Run("EmptyLoad", func(t *testing.T) {
		set := load(t, newBackend(t))
		if set.Generation != 0 || len(set.Keys) != 0 {
			t.Fatalf("Load of a new backend = generation %d, %d keys; want 0, 0", set.Generation, len(set.Keys))
		}
	})
	t.Run("Generate", func(t *testing.T) { testGenerate(t, newBackend(t)) })
	t.Run("SaveAndLoad", func(t *testing.T) { testSaveAndLoad(t, newBackend(t)) })
	t.Run("StaleGenerationConflicts", func(t *testing.T) { testStale(t, newBackend(t)) })
	t.Run("ConcurrentSaversOneWins", func(t *testing.T) { testConcurrent(t, newBackend(t)) })
	t.Run("DroppedKeysDisappear", func(t *testing.T) { testDrop(t, newBackend(t)) })
	t.Run("InvalidSetRejected", func(t *testing.T) { testInvalid(t, newBackend(t)) })
	t.Run("TwoAlgorithmChains", func(t *testing.T) { testTwoChains(t, newBackend(t)) })
	t.Run("RevocationsKept", func(t *testing.T) { testRevocations(t, newBackend(t)) })
	t.Run("SetsNotShared", func(t *testing.T) { testNotShared(t, newBackend(t)) })
}

// testRevocations checks that a set's revocations are saved and loaded with it, carried by a
// rotation, and that a set naming a key both in force and revoked is refused.
func testRevocations(t *testing.T, b keys.Backend) {
	ctx := context.Background()
	k := gen(t, b, keys.ES256, epoch)
	save(t, b, keys.Set{Generation: 1, Keys: []keys.Key{k}})
	r, err := keys.RevokeKey(ctx, keys.RevokeConfig{Backend: b, KID: k.KID, Now: epoch.Add(time.Minute)})
	if err != nil {
		t.Fatalf("RevokeKey: %v", err)
	}
	want := []keys.Revocation{{KID: k.KID, At: epoch.Add(time.Minute)}}
	set := load(t, b)
	if !sameRevocations(set.Revoked, want) {
		t.Fatalf("after RevokeKey, Load revocations = %+v, want %+v", set.Revoked, want)
	}
	if _, held := set.Find(k.KID); held || len(set.Keys) != 1 || set.Keys[0].KID != r.NewKID {
		t.Fatalf("after RevokeKey, the set holds %v; want only the replacement %s", set.Metas(), r.NewKID)
	}
	next, err := keys.Apply(set, keys.Decision{Alg: keys.ES256, Generate: true, Activates: epoch.Add(time.Hour)}, gen(t, b, keys.ES256, epoch.Add(2*time.Minute)))
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	save(t, b, next)
	if got := load(t, b).Revoked; !sameRevocations(got, want) {
		t.Fatalf("after a rotation, Load revocations = %+v, want %+v", got, want)
	}
	back := next.Clone()
	back.Generation++
	back.Keys = append(back.Keys, k)
	if err := b.Save(ctx, back); !errors.Is(err, keys.ErrInvalidSet) {
		t.Fatalf("Save of a set holding its revoked key = %v, want ErrInvalidSet", err)
	}
}

// sameRevocations reports whether a and b record the same revocations (times as instants).
func sameRevocations(a, b []keys.Revocation) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].KID != b[i].KID || !a[i].At.Equal(b[i].At) {
			return false
		}
	}
	return true
}

// gen creates a key of alg inside b, failing t on error: the suite's keys come from the backend
// under test, as a backend that holds its keys in a key service can sign with no other.
func gen(t *testing.T, b keys.Backend, alg string, now time.Time) keys.Key {
	t.Helper()
	k, err := b.Generate(context.Background(), alg, now)
	if err != nil {
		t.Fatalf("Generate(%q): %v", alg, err)
	}
	return k
}

// testGenerate checks the keys a backend creates: of the asked algorithm, created (and signing)
// from now, named by the thumbprint of their public key, signing verifiably, distinct from one
// another, absent from the set until saved, and refused for an unknown algorithm or a done ctx.
func testGenerate(t *testing.T, b keys.Backend) {
	for _, alg := range []string{keys.RS256, keys.ES256} {
		k1, k2 := gen(t, b, alg, epoch), gen(t, b, alg, epoch)
		for _, k := range []keys.Key{k1, k2} {
			if k.Alg != alg || !k.Created.Equal(epoch) || !k.Activates.Equal(epoch) || !k.Retires.IsZero() {
				t.Fatalf("Generate(%s) meta = %+v, want alg %s created and activating at %s", alg, k.Meta, alg, epoch)
			}
			if kid, err := keys.Thumbprint(k.Public()); err != nil || kid != k.KID {
				t.Fatalf("Generate(%s) kid = %s, want the thumbprint %s (%v)", alg, k.KID, kid, err)
			}
			SignAndVerify(t, alg, k.Signer, k.Public())
		}
		if k1.KID == k2.KID {
			t.Fatalf("two Generate(%s) calls returned the same key %s", alg, k1.KID)
		}
	}
	if set := load(t, b); set.Generation != 0 || len(set.Keys) != 0 {
		t.Fatalf("after Generate without Save, Load = generation %d with %d keys, want an empty set", set.Generation, len(set.Keys))
	}
	if _, err := b.Generate(context.Background(), "HS256", epoch); !errors.Is(err, keys.ErrUnsupportedAlg) {
		t.Fatalf("Generate(HS256) = %v, want ErrUnsupportedAlg", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := b.Generate(ctx, keys.ES256, epoch); !errors.Is(err, context.Canceled) {
		t.Fatalf("Generate with a cancelled context = %v, want context.Canceled", err)
	}
}

func load(t *testing.T, b keys.Backend) keys.Set {
	t.Helper()
	set, err := b.Load(context.Background())
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return set
}

func save(t *testing.T, b keys.Backend, set keys.Set) {
	t.Helper()
	if err := b.Save(context.Background(), set); err != nil {
		t.Fatalf("Save(generation %d): %v", set.Generation, err)
	}
}

// checkSet fails t unless got holds the keys of want, in order, with working signers.
func checkSet(t *testing.T, got keys.Set, wantGen int64, want ...keys.Key) {
	t.Helper()
	if got.Generation != wantGen {
		t.Fatalf("generation = %d, want %d", got.Generation, wantGen)
	}
	if len(got.Keys) != len(want) {
		t.Fatalf("got %d keys, want %d", len(got.Keys), len(want))
	}
	for i, w := range want {
		g := got.Keys[i]
		if !SameMeta(g.Meta, w.Meta) {
			t.Fatalf("key %d: meta = %+v, want %+v", i, g.Meta, w.Meta)
		}
		if g.Signer == nil {
			t.Fatalf("key %s: no signer", g.KID)
		}
		SignAndVerify(t, w.Alg, g.Signer, w.Signer.Public())
	}
}

// testNotShared checks that a backend keeps what was saved: a caller's change to the set it
// saved, or to a set Load returned, does not reach the store (a Manager edits loaded sets).
func testNotShared(t *testing.T, b keys.Backend) {
	k := gen(t, b, keys.ES256, epoch)
	want := k
	saved := keys.Set{Generation: 1, Keys: []keys.Key{k}}
	save(t, b, saved)
	saved.Keys[0].Retires = epoch.Add(5 * time.Hour)
	loaded := load(t, b)
	checkSet(t, loaded, 1, want)
	loaded.Keys[0].Activates = epoch.Add(9 * time.Hour)
	checkSet(t, load(t, b), 1, want)
}

func testSaveAndLoad(t *testing.T, b keys.Backend) {
	rs := gen(t, b, keys.RS256, epoch)
	es := gen(t, b, keys.ES256, epoch.Add(time.Minute))
	es.Activates = epoch.Add(time.Hour)
	rs.Retires = es.Activates
	save(t, b, keys.Set{Generation: 1, Keys: []keys.Key{rs, es}})
	checkSet(t, load(t, b), 1, rs, es)
}

func testStale(t *testing.T, b keys.Backend) {
	ctx := context.Background()
	k := gen(t, b, keys.ES256, epoch)
	if err := b.Save(ctx, keys.Set{Generation: 2, Keys: []keys.Key{k}}); !errors.Is(err, keys.ErrConflict) {
		t.Fatalf("Save(generation 2) on an empty backend = %v, want ErrConflict", err)
	}
	save(t, b, keys.Set{Generation: 1, Keys: []keys.Key{k}})
	for _, gen := range []int64{1, 3} {
		if err := b.Save(ctx, keys.Set{Generation: gen, Keys: []keys.Key{k}}); !errors.Is(err, keys.ErrConflict) {
			t.Fatalf("Save(generation %d) at generation 1 = %v, want ErrConflict", gen, err)
		}
	}
	k2 := gen(t, b, keys.ES256, epoch)
	save(t, b, keys.Set{Generation: 2, Keys: []keys.Key{k, k2}})
	checkSet(t, load(t, b), 2, k, k2)
}

func testConcurrent(t *testing.T, b keys.Backend) {
	const writers = 8
	base := gen(t, b, keys.ES256, epoch)
	save(t, b, keys.Set{Generation: 1, Keys: []keys.Key{base}})
	candidates := make([]keys.Key, writers)
	for i := range candidates {
		candidates[i] = gen(t, b, keys.ES256, epoch.Add(time.Hour))
	}
	errs := make([]error, writers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			<-start
			errs[i] = b.Save(context.Background(), keys.Set{Generation: 2, Keys: []keys.Key{base, candidates[i]}})
		})
	}
	close(start)
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Fatalf("writers %d and %d both saved generation 2", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, keys.ErrConflict):
			t.Fatalf("writer %d: Save = %v, want nil or ErrConflict", i, err)
		}
	}
	if winner < 0 {
		t.Fatal("no writer saved generation 2")
	}
	checkSet(t, load(t, b), 2, base, candidates[winner])
}

func testDrop(t *testing.T, b keys.Backend) {
	a := gen(t, b, keys.ES256, epoch)
	k := gen(t, b, keys.ES256, epoch)
	c := gen(t, b, keys.ES256, epoch)
	save(t, b, keys.Set{Generation: 1, Keys: []keys.Key{a, k, c}})
	k.Retires = epoch.Add(time.Hour)
	save(t, b, keys.Set{Generation: 2, Keys: []keys.Key{k}})
	checkSet(t, load(t, b), 2, k)
	d := gen(t, b, keys.ES256, epoch)
	save(t, b, keys.Set{Generation: 3, Keys: []keys.Key{d}})
	checkSet(t, load(t, b), 3, d)
}

func testInvalid(t *testing.T, b keys.Backend) {
	k := gen(t, b, keys.ES256, epoch)
	wrongAlg := k
	wrongAlg.Alg = keys.RS256
	noSigner := k
	noSigner.Signer = nil
	// A kid that is not the key's thumbprint: stored, it would make every later Load fail.
	otherKID := k
	otherKID.KID = NewKey(t, keys.ES256, epoch).KID
	for name, set := range map[string]keys.Set{
		"generation 0":       {Generation: 0, Keys: []keys.Key{k}},
		"duplicate kid":      {Generation: 1, Keys: []keys.Key{k, k}},
		"no signer":          {Generation: 1, Keys: []keys.Key{noSigner}},
		"wrong alg":          {Generation: 1, Keys: []keys.Key{wrongAlg}},
		"kid of another key": {Generation: 1, Keys: []keys.Key{otherKID}},
	} {
		err := b.Save(context.Background(), set)
		if !errors.Is(err, keys.ErrInvalidSet) {
			t.Errorf("Save(%s) = %v, want ErrInvalidSet", name, err)
		}
	}
	if set := load(t, b); set.Generation != 0 {
		t.Fatalf("after rejected saves, generation = %d, want 0", set.Generation)
	}
}

// testTwoChains stores an ES256 and an RS256 chain side by side and rotates one of them.
func testTwoChains(t *testing.T, b keys.Backend) {
	p := keys.Policy{Period: time.Hour, Prepublish: 10 * time.Minute, Retain: 10 * time.Minute, Alg: keys.ES256, Also: []string{keys.RS256}}
	set := load(t, b)
	now := epoch
	for range 3 {
		d := keys.Decide(now, set.Metas(), p)
		if d.Empty() {
			break
		}
		next, err := keys.Apply(set, d, gen(t, b, d.Alg, now))
		if err != nil {
			t.Fatalf("Apply: %v", err)
		}
		save(t, b, next)
		set = next
	}
	es, rs := set.Keys[0], set.Keys[1]
	if len(set.Keys) != 2 || es.Alg != keys.ES256 || rs.Alg != keys.RS256 {
		t.Fatalf("bootstrap of two chains = %d keys %v", len(set.Keys), set.Metas())
	}
	checkSet(t, load(t, b), 2, es, rs)

	now = epoch.Add(50 * time.Minute)
	rsPolicy := p
	rsPolicy.Alg = keys.RS256
	d, err := keys.ForceRotate(now, set.Metas(), rsPolicy)
	if err != nil {
		t.Fatalf("ForceRotate(RS256): %v", err)
	}
	rs2 := gen(t, b, keys.RS256, now)
	next, err := keys.Apply(set, d, rs2)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	save(t, b, next)
	rs.Retires, rs2.Activates = d.Retires, d.Activates
	checkSet(t, load(t, b), 3, es, rs, rs2)
	for alg, want := range map[string]string{keys.ES256: es.KID, keys.RS256: rs.KID} {
		if got, _ := keys.Signing(now, load(t, b).Metas(), alg); got.KID != want {
			t.Fatalf("after the RS256 rotation, Signing(%s) = %s, want %s", alg, got.KID, want)
		}
	}
}
