package vaulttransit_test

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/testutil/fakeclock"
	"github.com/brokerhq/broker/internal/testutil/syncbuf"
	"github.com/brokerhq/broker/internal/testutil/vaulttest"
	"github.com/brokerhq/broker/keys"
	"github.com/brokerhq/broker/keys/vaulttransit"
)

// newNamePolicy is the rotation policy of the new-key-name tests: one ES256 chain.
var newNamePolicy = keys.Policy{Period: 720 * time.Hour, Prepublish: time.Hour, Retain: time.Hour, Alg: keys.ES256}

// TestNewKeyNameAfterExportableKeySigns: the remedy for an exportable Transit key is a new key
// name. A replica configured with it, sharing the key set's metadata (Redis, or as here the
// memory store) that still lists the old key's versions, loads the set without them (logging
// their KIDs and the old key's name), signs at once with version 1 of the new key, publishes
// none of the old versions, and saves a set that no longer names the old key.
func TestNewKeyNameAfterExportableKeySigns(t *testing.T) {
	ctx := context.Background()
	v, token := startVault(t)
	meta := vaulttransit.NewMemoryMeta()
	old := uniqueKey()
	b1 := newBackend(t, v, token, vaulttransit.Config{Key: old, Alg: keys.ES256, Meta: meta})
	m1 := newManager(t, keys.Config{Backend: b1, Policy: newNamePolicy})
	refresh(t, m1)
	if err := m1.Rotate(ctx); err != nil { // a second version, published ahead
		t.Fatal(err)
	}
	oldKIDs := transitKIDs(t, v, old)
	if len(oldKIDs) != 2 {
		t.Fatalf("Transit key %s has %d versions, want 2", old, len(oldKIDs))
	}
	makeExportable(t, v, old)

	logs := &syncbuf.Buffer{}
	name := uniqueKey()
	b2 := newBackend(t, v, token, vaulttransit.Config{Key: name, Alg: keys.ES256, Meta: meta,
		Logger: slog.New(slog.NewTextHandler(logs, nil))})
	m2 := newManager(t, keys.Config{Backend: b2, Policy: newNamePolicy})
	if _, err := m2.Refresh(ctx); err != nil {
		t.Fatalf("Refresh of a replica configured with a new Transit key name: %v", err)
	}
	checkSignsWithOnly(t, v, m2.Snapshot(), name, oldKIDs)
	for _, kid := range oldKIDs {
		if !strings.Contains(logs.String(), kid) || !strings.Contains(logs.String(), old) {
			t.Errorf("no warning names key %s of Transit key %s; logs:\n%s", kid, old, logs)
		}
	}
	recs, err := meta.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs.Keys {
		if r.TransitKey != name {
			t.Errorf("saved key set still holds key %s of Transit key %s", r.KID, r.TransitKey)
		}
	}
}

// TestExportableKeyLeftBehindIsRevoked: a replica already configured with a new key name while
// the set's signing key is still a version of the old Transit key (the chain moves to the new
// name at its next rotation) revokes that version once the old key is made exportable and its
// signer has seen it: the next refresh leaves it out of the set (logging its KID), and a version
// of the new key signs at once.
func TestExportableKeyLeftBehindIsRevoked(t *testing.T) {
	ctx := context.Background()
	v, token := startVault(t)
	clock := fakeclock.New(time.Now())
	meta := vaulttransit.NewMemoryMeta()
	old := uniqueKey()
	b1 := newBackend(t, v, token, vaulttransit.Config{Key: old, Alg: keys.ES256, Meta: meta, Now: clock.Now})
	refresh(t, newManager(t, keys.Config{Backend: b1, Policy: newNamePolicy, Now: clock.Now}))

	logs := &syncbuf.Buffer{}
	name := uniqueKey()
	b2 := newBackend(t, v, token, vaulttransit.Config{Key: name, Alg: keys.ES256, Meta: meta, Now: clock.Now,
		Logger: slog.New(slog.NewTextHandler(logs, nil))})
	m2 := newManager(t, keys.Config{Backend: b2, Policy: newNamePolicy, Now: clock.Now})
	refresh(t, m2)
	oldKIDs := transitKIDs(t, v, old)
	if got := m2.Snapshot().Signing.KID; !slices.Contains(oldKIDs, got) {
		t.Fatalf("control: the replica signs with %s, not the old Transit key's version %v", got, oldKIDs)
	}
	makeExportable(t, v, old)
	clock.Advance(vaulttransit.RecheckInterval)
	digest := sha256.Sum256([]byte("header.payload"))
	if _, err := m2.Snapshot().Signing.Signer.(keys.ContextSigner).SignJWS(ctx, digest[:]); !errors.Is(err, vaulttransit.ErrExportable) {
		t.Fatalf("SignJWS with the exportable Transit key: %v, want ErrExportable", err)
	}
	refresh(t, m2)
	checkSignsWithOnly(t, v, m2.Snapshot(), name, oldKIDs)
	if !strings.Contains(logs.String(), "kid="+oldKIDs[0]) {
		t.Errorf("no warning names the revoked key %s; logs:\n%s", oldKIDs[0], logs)
	}
}

// checkSignsWithOnly fails t unless snap signs with version 1 of the Transit key name, which
// signs a token, and publishes none of gone.
func checkSignsWithOnly(t *testing.T, v *vaulttest.Server, snap *keys.Snapshot, name string, gone []string) {
	t.Helper()
	want := transitKIDs(t, v, name)
	if len(want) != 1 || snap.Signing.KID != want[0] {
		t.Errorf("signing key %s, want version 1 of the new Transit key %s (%v)", snap.Signing.KID, name, want)
	}
	digest := sha256.Sum256([]byte("header.payload"))
	if _, err := snap.Signing.Signer.(keys.ContextSigner).SignJWS(context.Background(), digest[:]); err != nil {
		t.Errorf("SignJWS with the new Transit key: %v", err)
	}
	for _, k := range snap.Published {
		if slices.Contains(gone, k.KID) {
			t.Errorf("the JWKS still publishes %s, a version of the exportable Transit key", k.KID)
		}
	}
}

// newManager returns a keys.Manager on cfg.
func newManager(t *testing.T, cfg keys.Config) *keys.Manager {
	t.Helper()
	m, err := keys.NewManager(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// refresh refreshes m, failing t on error.
func refresh(t *testing.T, m *keys.Manager) {
	t.Helper()
	if _, err := m.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// makeExportable turns exportable on for the Transit key name.
func makeExportable(t *testing.T, v *vaulttest.Server, name string) {
	t.Helper()
	if _, err := v.Client().Logical().Write(mount+"/keys/"+name+"/config", map[string]any{"exportable": true}); err != nil {
		t.Fatal(err)
	}
}

// transitKIDs returns the KIDs of the versions of the Transit key name, oldest first.
func transitKIDs(t *testing.T, v *vaulttest.Server, name string) []string {
	t.Helper()
	sec, err := v.Client().Logical().Read(mount + "/keys/" + name)
	if err != nil || sec == nil {
		t.Fatalf("read Transit key %s: %v", name, err)
	}
	versions, _ := sec.Data["keys"].(map[string]any)
	var out []string
	for i := 1; i <= len(versions); i++ {
		entry, _ := versions[strconv.Itoa(i)].(map[string]any)
		text, _ := entry["public_key"].(string)
		block, _ := pem.Decode([]byte(text))
		if block == nil {
			t.Fatalf("Transit key %s version %d: no PEM public key", name, i)
		}
		pub, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		kid, err := keys.Thumbprint(pub)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, kid)
	}
	return out
}
