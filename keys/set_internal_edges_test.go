package keys

import (
	"crypto/rsa"
	"fmt"
	"slices"
	"testing"
	"time"
)

// Merging revocation records (as a write-back merges the stored set's into the set in force)
// keeps the latest maxRevocations by time, oldest first, whatever order they come in: a record
// older than all those kept is the one left out.
// Guards against: sort by At dropped, set.go:withRevocations
func TestWithRevocationsKeepsTheLatestByTime(t *testing.T) {
	var kept []Revocation
	for i := 1; i <= maxRevocations; i++ {
		kept = append(kept, Revocation{KID: fmt.Sprintf("k%02d", i), At: epoch.Add(time.Duration(i) * time.Hour)})
	}
	older := Revocation{KID: "old", At: epoch}
	got := withRevocations(kept, older)
	if !slices.Equal(got, kept) {
		t.Errorf("withRevocations = %v, want the latest %d %v", got, maxRevocations, kept)
	}
	newer := Revocation{KID: "new", At: epoch.Add(100 * time.Hour)}
	got = withRevocations(append([]Revocation{newer}, kept[1:]...), kept[0])
	if want := append(slices.Clone(kept[1:]), newer); !slices.Equal(got, want) {
		t.Errorf("withRevocations = %v, want oldest first %v", got, want)
	}
}

// A key dated ahead that leaves the set is told as dropped ahead, not revoked, when the only key
// new in the set that signs from its creation is of another algorithm: only an immediate key of
// its own chain marks the replacement of a revoked key.
// Guards against: sameAlg dropped, loaded.go:compareLoaded
func TestCompareLoadedDroppedAheadNeedsAReplacementOfItsChain(t *testing.T) {
	p := Policy{Period: 720 * time.Hour, Prepublish: 24 * time.Hour, Retain: 24 * time.Hour, Alg: ES256, Also: []string{RS256}}
	now := epoch.Add(1000 * time.Hour)
	signing := Meta{KID: "es1", Alg: ES256, Created: epoch, Activates: epoch}
	ahead := Meta{KID: "es2", Alg: ES256, Created: now.Add(time.Hour), Activates: now.Add(2000 * time.Hour)}
	firstRSA := Meta{KID: "rs1", Alg: RS256, Created: now, Activates: now}
	prev := SetMeta{Generation: 3, Keys: []Meta{signing, ahead}}
	set := SetMeta{Generation: 4, Keys: []Meta{signing, firstRSA}}
	l := compareLoaded(prev, set, now, p)
	if !slices.Equal(l.DroppedAhead, []string{"es2"}) || len(l.Revoked) != 0 {
		t.Errorf("compareLoaded = dropped ahead %v, revoked %v; want es2 dropped ahead, none revoked", l.DroppedAhead, l.Revoked)
	}
}

// An RS256 key Generate creates has a 2048-bit modulus: shorter RSA keys are weak, and relying
// parties refuse them.
// Guards against: RSABits lowered, generate.go:RSABits
func TestGenerateRSAIs2048Bits(t *testing.T) {
	k, err := Generate(RS256, epoch)
	if err != nil {
		t.Fatal(err)
	}
	pub, ok := k.Public().(*rsa.PublicKey)
	if !ok {
		t.Fatalf("public key is %T, want *rsa.PublicKey", k.Public())
	}
	if bits := pub.N.BitLen(); bits != 2048 {
		t.Errorf("RSA modulus is %d bits, want 2048", bits)
	}
}

// Revoking the key that signs by its metadata retires again the key before it in its own
// chain (replicas still holding the revoked key back sign with that one); a key of another
// chain that activated in between is neither taken for it nor retired.
// Guards against: predecessor sought in the whole set, revoke.go:Revoke
func TestRevokeRetiresThePredecessorOfItsOwnChain(t *testing.T) {
	r1 := Meta{KID: "rs1", Alg: RS256, Created: epoch, Activates: epoch, Retires: epoch.Add(48 * time.Hour)}
	e1 := Meta{KID: "es1", Alg: ES256, Created: epoch, Activates: epoch.Add(24 * time.Hour)}
	r2 := Meta{KID: "rs2", Alg: RS256, Created: epoch.Add(40 * time.Hour), Activates: epoch.Add(48 * time.Hour)}
	now := epoch.Add(50 * time.Hour)
	d, err := Revoke(now, []Meta{r1, e1, r2}, "rs2")
	if err != nil {
		t.Fatal(err)
	}
	if d.Retire != "rs1" || !d.Retires.Equal(now) || d.Alg != RS256 {
		t.Errorf("Revoke = %+v, want rs1 retired at %s in the RS256 chain", d, now)
	}
}
