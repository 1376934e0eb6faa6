package vaulttransit_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"github.com/brokerhq/broker/internal/testutil/fakeclock"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/testutil/vaulttest"
	"github.com/brokerhq/broker/keys"
	"github.com/brokerhq/broker/keys/vaulttransit"
)

// exportSettings are the Transit key settings that let a key's private halves leave Vault:
// export (and BYOK export) and plaintext backup.
var exportSettings = []string{"exportable", "allow_plaintext_backup"}

// TestExportableTransitKeyRefused: a Transit key whose private key may leave Vault
// (exportable=true or allow_plaintext_backup=true) is not broker's signing key, whoever set it:
// adopting it fails New, loading a key set holding it fails, rotating it makes no new version,
// and Ping fails, each naming the key and the setting. A key made so while broker signs with it
// stops signing once its settings are read again, RecheckInterval later at most.
func TestExportableTransitKeyRefused(t *testing.T) {
	v, token := startVault(t)
	for _, setting := range exportSettings {
		t.Run(setting, func(t *testing.T) {
			t.Run("pre-created", func(t *testing.T) { preCreated(t, v, token, setting) })
			t.Run("set-while-signing", func(t *testing.T) { setWhileSigning(t, v, token, setting) })
		})
	}
}

// preCreated: a Transit key created with setting on is refused by adoption and rotation.
func preCreated(t *testing.T, v *vaulttest.Server, token, setting string) {
	root := v.Client()
	name := uniqueKey()
	if _, err := root.Logical().Write(mount+"/keys/"+name, map[string]any{"type": "ecdsa-p256", setting: true}); err != nil {
		t.Fatal(err)
	}
	_, err := vaulttransit.New(context.Background(), vaulttransit.Config{
		Address: v.Addr(), Mount: mount, Key: name, Alg: keys.ES256, Token: token, Adopt: true,
		Prepublish: time.Second, Retain: time.Hour,
	})
	checkRefused(t, "New adopting it", err, name, setting)

	b := newBackend(t, v, token, vaulttransit.Config{Key: name, Alg: keys.ES256})
	_, err = b.Generate(context.Background(), keys.ES256, time.Now())
	checkRefused(t, "Generate", err, name, setting)
	if latest := latestVersion(t, v, name); latest != 1 {
		t.Errorf("Generate rotated the exportable key to version %d", latest)
	}
	checkRefused(t, "Ping", b.Ping(context.Background()), name, setting)
}

// setWhileSigning: setting turned on (Vault's config endpoint) on the Transit key a backend signs
// with.
func setWhileSigning(t *testing.T, v *vaulttest.Server, token, setting string) {
	ctx := context.Background()
	name := uniqueKey()
	clock := fakeclock.New(time.Now())
	meta := vaulttransit.NewMemoryMeta()
	b := newBackend(t, v, token, vaulttransit.Config{Key: name, Alg: keys.ES256, Meta: meta, Now: clock.Now})
	k, err := b.Generate(ctx, keys.ES256, clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Save(ctx, keys.Set{Generation: 1, Keys: []keys.Key{k}}); err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256([]byte("header.payload"))
	signer := k.Signer.(keys.ContextSigner)
	if _, err := signer.SignJWS(ctx, digest[:]); err != nil {
		t.Fatalf("SignJWS before %s was set: %v", setting, err)
	}
	if _, err := v.Client().Logical().Write(mount+"/keys/"+name+"/config", map[string]any{setting: true}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(vaulttransit.RecheckInterval)
	sig, err := signer.SignJWS(ctx, digest[:])
	checkRefused(t, "SignJWS", err, name, setting)
	if !errors.Is(err, keys.ErrUnavailable) {
		t.Errorf("SignJWS error %v does not wrap keys.ErrUnavailable (the API's 503)", err)
	}
	if len(sig) != 0 {
		t.Errorf("SignJWS returned a %d-byte signature with an exportable key", len(sig))
	}
	_, err = b.Load(ctx)
	checkRefused(t, "Load on the same backend", err, name, setting)
	other := newBackend(t, v, token, vaulttransit.Config{Key: name, Alg: keys.ES256, Meta: meta})
	_, err = other.Load(ctx)
	checkRefused(t, "Load on another replica", err, name, setting)
	checkRefused(t, "Ping", b.Ping(ctx), name, setting)
}

// checkRefused fails t unless err refuses the Transit key name, naming it and setting.
func checkRefused(t *testing.T, what string, err error, name, setting string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s accepted Transit key %s with %s=true", what, name, setting)
		return
	}
	msg := err.Error()
	if !strings.Contains(msg, mount+"/keys/"+name) || !strings.Contains(msg, setting+"=true") {
		t.Errorf("%s error %q does not name the key %s/keys/%s and %s=true", what, msg, mount, name, setting)
	}
}

// latestVersion reads the latest version of the Transit key name.
func latestVersion(t *testing.T, v *vaulttest.Server, name string) int {
	t.Helper()
	sec, err := v.Client().Logical().Read(mount + "/keys/" + name)
	if err != nil || sec == nil {
		t.Fatalf("read Transit key %s: %v", name, err)
	}
	n, err := sec.Data["latest_version"].(interface{ Int64() (int64, error) }).Int64()
	if err != nil {
		t.Fatal(err)
	}
	return int(n)
}
