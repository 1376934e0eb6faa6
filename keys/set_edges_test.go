package keys_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/testutil/fakeclock"
	"github.com/brokerhq/broker/keys"
)

// TestSetValidate pins every clause of Set.Validate, each case one step from valid.
func TestSetValidate(t *testing.T) {
	k := storedKey(t, meta("", hours{}))
	other := storedKey(t, meta("", hours{}))
	withKID := func(kid string) keys.Key { c := k; c.KID = kid; return c }
	noCreated := k
	noCreated.Created = time.Time{}
	noActivates := k
	noActivates.Activates = time.Time{}
	revs := func(n int) []keys.Revocation {
		out := make([]keys.Revocation, n)
		for i := range out {
			out[i] = keys.Revocation{KID: fmt.Sprintf("r%d", i), At: h(float64(i))}
		}
		return out
	}
	tests := []struct {
		name string
		set  keys.Set
		ok   bool
	}{
		{"valid", keys.Set{Generation: 1, Keys: []keys.Key{k}}, true},
		{"generation 1, no keys", keys.Set{Generation: 1}, true},
		{"kid of another key", keys.Set{Generation: 1, Keys: []keys.Key{withKID(other.KID)}}, false},
		{"kid of 129 characters", keys.Set{Generation: 1, Keys: []keys.Key{withKID(strings.Repeat("a", 129))}}, false},
		{"empty kid", keys.Set{Generation: 1, Keys: []keys.Key{withKID("")}}, false},
		{"kid with a slash", keys.Set{Generation: 1, Keys: []keys.Key{withKID("../x")}}, false},
		{"kid with a dot", keys.Set{Generation: 1, Keys: []keys.Key{withKID("a.b")}}, false},
		{"created unset", keys.Set{Generation: 1, Keys: []keys.Key{noCreated}}, false},
		{"activates unset", keys.Set{Generation: 1, Keys: []keys.Key{noActivates}}, false},
		{"16 revocations", keys.Set{Generation: 1, Keys: []keys.Key{k}, Revoked: revs(16)}, true},
		{"17 revocations", keys.Set{Generation: 1, Keys: []keys.Key{k}, Revoked: revs(17)}, false},
		{"revocation with an invalid kid", keys.Set{Generation: 1, Revoked: []keys.Revocation{{KID: "a/b", At: h(0)}}}, false},
		{"revocation with an empty kid", keys.Set{Generation: 1, Revoked: []keys.Revocation{{KID: "", At: h(0)}}}, false},
		{"revocation, kid with - and _ of 128 characters", keys.Set{Generation: 1, Revoked: []keys.Revocation{{KID: "k-1_A" + strings.Repeat("a", 123), At: h(0)}}}, true},
		{"revocation, kid of 129 characters", keys.Set{Generation: 1, Revoked: []keys.Revocation{{KID: strings.Repeat("a", 129), At: h(0)}}}, false},
		{"revoked key in the set", keys.Set{Generation: 1, Keys: []keys.Key{k}, Revoked: []keys.Revocation{{KID: k.KID, At: h(1)}}}, false},
	}
	for _, tt := range tests {
		err := tt.set.Validate()
		if tt.ok && err != nil {
			t.Errorf("%s: Validate() = %v; want nil", tt.name, err)
		}
		if !tt.ok && !errors.Is(err, keys.ErrInvalidSet) {
			t.Errorf("%s: Validate() = %v; want ErrInvalidSet", tt.name, err)
		}
	}
}

// TestRevocationsKeepTheLatest: past maxRevocations (16) revocations, the set keeps the
// latest ones, so the key revoked last is still on record.
func TestRevocationsKeepTheLatest(t *testing.T) {
	ctx := context.Background()
	store := keys.NewMemory()
	k, err := store.Generate(ctx, keys.ES256, h(0))
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Save(ctx, keys.Set{Generation: 1, Keys: []keys.Key{k}}); err != nil {
		t.Fatal(err)
	}
	var revoked []string
	for i := 1; i <= 17; i++ {
		set, _ := store.Load(ctx)
		kid := set.Keys[0].KID
		if _, err := keys.RevokeKey(ctx, keys.RevokeConfig{Backend: store, KID: kid, Now: h(float64(i))}); err != nil {
			t.Fatal(err)
		}
		revoked = append(revoked, kid)
	}
	set, _ := store.Load(ctx)
	var got []string
	for _, r := range set.Revoked {
		got = append(got, r.KID)
	}
	if want := revoked[1:]; !slices.Equal(got, want) {
		t.Errorf("Revoked = %v; want the latest 16 %v", got, want)
	}
}

// TestRevokeRetiresPredecessorOnlyWhenItsMetadataRetiredIt: revoking the key that signs
// by its metadata retires again, at now, the key before it only when that key's Retires is set
// and already past (replicas holding the revoked key back sign with it); a predecessor not
// retired, or retiring later, is left as it is.
func TestRevokeRetiresPredecessorOnlyWhenItsMetadataRetiredIt(t *testing.T) {
	tests := []struct {
		name       string
		prev       keys.Meta
		wantRetire string
	}{
		{"predecessor retired before now", meta("prev", hours{created: -30, activates: 0, retires: 10}), "prev"},
		{"predecessor retiring after now", meta("prev", hours{created: -30, activates: 0, retires: 30}), ""},
		{"predecessor never retired", meta("prev", hours{created: -30, activates: 0}), ""},
	}
	for _, tt := range tests {
		set := []keys.Meta{tt.prev, meta("cur", hours{created: 5, activates: 10})}
		d, err := keys.Revoke(h(20), set, "cur")
		if err != nil {
			t.Fatal(err)
		}
		if d.Retire != tt.wantRetire {
			t.Errorf("%s: Revoke retires %q; want %q", tt.name, d.Retire, tt.wantRetire)
		}
		if len(d.Drop) != 1 || d.Drop[0] != "cur" || !d.Generate || !d.Activates.Equal(h(20)) {
			t.Errorf("%s: Revoke = %+v; want cur dropped and a key signing from now", tt.name, d)
		}
	}
}

// TestRevokeRetiresTheLatestPredecessor: of several keys before the revoked one, the key
// retired again is the one just before it (the latest that starts no later), the one replicas
// holding the revoked key back sign with.
func TestRevokeRetiresTheLatestPredecessor(t *testing.T) {
	set := []keys.Meta{
		meta("p1", hours{created: -30, activates: 0, retires: 10}),
		meta("p2", hours{created: 5, activates: 10, retires: 20}),
		meta("cur", hours{created: 15, activates: 20}),
	}
	d, err := keys.Revoke(h(25), set, "cur")
	if err != nil {
		t.Fatal(err)
	}
	if d.Retire != "p2" || !d.Retires.Equal(h(25)) {
		t.Errorf("Revoke retires %q at %s; want p2 at %s", d.Retire, d.Retires, h(25))
	}
}

// TestExpiredKeyBackIsNoBringBack: a stored set that holds again a key this replica dropped
// once it expired (a replica that never dropped it saved a change of its older set) is taken,
// with its change: the expired key neither signs nor is published, and the policy drops it
// again. Writing the set in force back over it would undo the other replica's change.
func TestExpiredKeyBackIsNoBringBack(t *testing.T) {
	ctx := context.Background()
	clk := fakeclock.New(t0)
	store := keys.NewMemory()
	a := newManager(t, keys.Config{Backend: store, Policy: policy, Now: clk.Now})
	refresh(t, a)
	first := a.Snapshot().Signing.KID
	clk.Set(h(700))
	refresh(t, a) // rotation: a successor signs from 720h
	before, err := store.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	clk.Set(h(760))
	refresh(t, a) // first expired: dropped
	inForce, _ := store.Load(ctx)
	if _, ok := inForce.Find(first); ok {
		t.Fatalf("setup: %s not dropped once expired", first)
	}
	// Another replica, which never dropped first, rotates its older set.
	second := before.Keys[len(before.Keys)-1].KID
	n, err := keys.Generate(keys.ES256, clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	other, err := keys.Apply(before, keys.Decision{Alg: keys.ES256, Generate: true, Activates: clk.Now().Add(policy.Lead()), Retire: second, Retires: clk.Now().Add(policy.Lead())}, n)
	if err != nil {
		t.Fatal(err)
	}
	other.Generation = inForce.Generation + 1
	if err := store.Save(ctx, other); err != nil {
		t.Fatal(err)
	}
	refresh(t, a)
	pub := snapKIDs(a.Snapshot().Published)
	if !slices.Contains(pub, n.KID) || slices.Contains(pub, first) {
		t.Errorf("published %v; want the other replica's new key %s and not the expired %s", pub, n.KID, first)
	}
}

// TestStoreGoneBackWithOldRevocationIsWrittenBack: with WriteBack, a store gone back to an
// older set is written over with the set in force, also when that older set records a
// revocation: only a revocation of a key in force here makes the older set win.
func TestStoreGoneBackWithOldRevocationIsWrittenBack(t *testing.T) {
	ctx := context.Background()
	clk := fakeclock.New(t0)
	store := &wipeable{Backend: keys.NewMemory()}
	a := newManager(t, keys.Config{Backend: store, Policy: policy, Now: clk.Now, WriteBack: true})
	refresh(t, a)
	revokeSigning(t, clk, store, a)
	afterRevocation, err := store.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	clk.Set(h(700))
	refresh(t, a) // rotation: a new key, pending
	inForce, _ := store.Load(ctx)
	newKID := inForce.Keys[len(inForce.Keys)-1].KID
	if _, ok := afterRevocation.Find(newKID); ok {
		t.Fatalf("setup: %s already before the rotation", newKID)
	}
	putBack(t, store, afterRevocation) // the store loses the rotation
	refresh(t, a)
	if pub := snapKIDs(a.Snapshot().Published); !slices.Contains(pub, newKID) {
		t.Errorf("published %v; want the rotation's key %s kept (the set in force written back)", pub, newKID)
	}
	stored, _ := store.Load(ctx)
	if _, ok := stored.Find(newKID); !ok {
		t.Errorf("stored set %v lacks %s: the older set was taken", stored.Metas(), newKID)
	}
}

// TestReadPrivateFileRefusesAnyGroupOrOtherBit: a key file granting group or others any
// permission, execute included, is refused; 0600 and stricter are read.
func TestReadPrivateFileRefusesAnyGroupOrOtherBit(t *testing.T) {
	dir := t.TempDir()
	for _, mode := range []os.FileMode{0o610, 0o601, 0o640, 0o604, 0o620, 0o602} {
		path := filepath.Join(dir, "k"+mode.String())
		if err := os.WriteFile(path, []byte("secret"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		if _, err := keys.ReadPrivateFile(path); !errors.Is(err, keys.ErrInsecurePermissions) {
			t.Errorf("ReadPrivateFile of a %04o file = %v; want ErrInsecurePermissions", mode, err)
		}
	}
	for _, mode := range []os.FileMode{0o600, 0o400} {
		path := filepath.Join(dir, "ok"+mode.String())
		if err := os.WriteFile(path, []byte("secret"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		if _, err := keys.ReadPrivateFile(path); err != nil {
			t.Errorf("ReadPrivateFile of a %04o file = %v; want it read", mode, err)
		}
	}
}

// TestPolicyValidateRefusesNegativePrepublish: a negative prepublish is refused.
func TestPolicyValidateRefusesNegativePrepublish(t *testing.T) {
	p := keys.Policy{Period: 720 * time.Hour, Prepublish: -time.Hour, Retain: 24 * time.Hour, Alg: keys.ES256}
	if err := p.Validate(); !errors.Is(err, keys.ErrInvalidPolicy) {
		t.Errorf("Validate of prepublish -1h = %v; want ErrInvalidPolicy", err)
	}
}

// TestReadPrivateFileRefusesOversizedFile: a key file larger than 1 MiB is refused.
func TestReadPrivateFileRefusesOversizedFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big")
	if err := os.WriteFile(path, make([]byte, 1<<20+1), 0o600); err != nil {
		t.Fatal(err)
	}
	if data, err := keys.ReadPrivateFile(path); err == nil {
		t.Errorf("ReadPrivateFile of a %d-byte file returned %d bytes; want an error", 1<<20+1, len(data))
	}
	ok := filepath.Join(t.TempDir(), "max")
	if err := os.WriteFile(ok, make([]byte, 1<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := keys.ReadPrivateFile(ok); err != nil {
		t.Errorf("ReadPrivateFile of a 1 MiB file = %v; want it read", err)
	}
}
