package vaulttransit_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/keys"
	"github.com/brokerhq/broker/keys/keystest"
	"github.com/brokerhq/broker/keys/vaulttransit"
)

// TestExportableConfiguredKeyFailsLoad: a key of the configured algorithm's own Transit
// key (Config.Key, here RS256) made exportable fails Load with ErrExportable; it is not revoked
// as a key of a Transit key no longer configured is.
// Guards against: backend.go:configured() checking only the ES256 chain's name
func TestExportableConfiguredKeyFailsLoad(t *testing.T) {
	ctx := context.Background()
	v, token := startVault(t)
	name := uniqueKey()
	meta := vaulttransit.NewMemoryMeta()
	a := newBackend(t, v, token, vaulttransit.Config{Key: name, Alg: keys.RS256, Meta: meta})
	saveFirstKey(t, a, keys.RS256)
	makeExportable(t, v, name)
	b := newBackend(t, v, token, vaulttransit.Config{Key: name, Alg: keys.RS256, Meta: meta})
	set, err := b.Load(ctx)
	if !errors.Is(err, vaulttransit.ErrExportable) {
		t.Fatalf("Load = %v, %v; want ErrExportable for the configured Transit key %s",
			set.Metas(), err, name)
	}
}

// TestLoadFailsWhenTransitKeyDeleted: Load of a stored set whose Transit key was deleted
// from Vault fails with an error naming the key, rather than panicking.
// Guards against: backend.go:`info == nil` check dropped from public
func TestLoadFailsWhenTransitKeyDeleted(t *testing.T) {
	ctx := context.Background()
	v, token := startVault(t)
	name := uniqueKey()
	meta := vaulttransit.NewMemoryMeta()
	a := newBackend(t, v, token, vaulttransit.Config{Key: name, Alg: keys.ES256, Meta: meta})
	saveFirstKey(t, a, keys.ES256)
	root := v.Client()
	path := mount + "/keys/" + name
	allow := map[string]any{"deletion_allowed": true}
	if _, err := root.Logical().Write(path+"/config", allow); err != nil {
		t.Fatal(err)
	}
	if _, err := root.Logical().Delete(path); err != nil {
		t.Fatal(err)
	}
	b := newBackend(t, v, token, vaulttransit.Config{Key: name, Alg: keys.ES256, Meta: meta})
	var set keys.Set
	var err error
	func() {
		defer func() {
			if r := recover(); r != nil {
				err = errors.New("panic")
				t.Errorf("Load with the Transit key deleted panicked: %v", r)
			}
		}()
		set, err = b.Load(ctx)
	}()
	if err == nil || !strings.Contains(err.Error(), name) {
		t.Fatalf("Load with the Transit key deleted = %v, %v; want an error naming %s",
			set.Metas(), err, name)
	}
}

// quietRotate answers every rotation (POST <mount>/keys/<name>/rotate) with 204 and no body,
// as an older Vault or a proxy may, after carrying it to Vault; it carries every other call.
type quietRotate struct{}

func (quietRotate) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err != nil || !strings.HasSuffix(r.URL.Path, "/rotate") || resp.StatusCode != http.StatusOK {
		return resp, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	resp.StatusCode, resp.Status = http.StatusNoContent, "204 No Content"
	resp.Body = io.NopCloser(bytes.NewReader(nil))
	resp.ContentLength = 0
	resp.Header.Del("Content-Length")
	return resp, nil
}

// TestRotationWithoutAnswerGivesNewVersion: when Vault answers a rotation without the
// rotated key, Generate reads the key again and returns the new version, not the one before.
// Guards against: transit.go:re-read after a rotation answered without data dropped in newVersion
func TestRotationWithoutAnswerGivesNewVersion(t *testing.T) {
	ctx := context.Background()
	v, token := startVault(t)
	b := newBackend(t, v, token, vaulttransit.Config{Alg: keys.ES256, Transport: quietRotate{}})
	k1, err := b.Generate(ctx, keys.ES256, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	k2, err := b.Generate(ctx, keys.ES256, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if k1.KID == k2.KID {
		t.Fatalf("the second Generate returned version 1's key %s again", k1.KID)
	}
	keystest.SignAndVerify(t, keys.ES256, k2.Signer, k2.Public())
}

// TestMemoryMetaSaveCopiesRevoked: MemoryMeta keeps the revocations it saved: changing
// the slice given to Save afterwards leaves the stored ones as saved.
// Guards against: meta.go:Revoked not cloned in MemoryMeta.Save
func TestMemoryMetaSaveCopiesRevoked(t *testing.T) {
	ctx := context.Background()
	m := vaulttransit.NewMemoryMeta()
	next := vaulttransit.Records{Generation: 1, Revoked: []keys.Revocation{{KID: "kid-old"}}}
	if err := m.Save(ctx, next); err != nil {
		t.Fatal(err)
	}
	next.Revoked[0].KID = "kid-changed"
	got, err := m.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Revoked) != 1 || got.Revoked[0].KID != "kid-old" {
		t.Fatalf("stored revocations changed by the saver: %+v", got.Revoked)
	}
}

// TestSaveRefusesForeignSigner: Save refuses (ErrInvalidSet) a key whose signer is not a
// vault-transit one at all (a key held in process memory), rather than panicking.
// Guards against: backend.go:`!ok ||` dropped from Save's signer check
func TestSaveRefusesForeignSigner(t *testing.T) {
	v, token := startVault(t)
	b := newBackend(t, v, token, vaulttransit.Config{Alg: keys.ES256})
	k := keystest.NewKey(t, keys.ES256, time.Now())
	var err error
	func() {
		defer func() {
			if r := recover(); r != nil {
				err = errors.New("panic")
				t.Errorf("Save of a key held in memory panicked: %v", r)
			}
		}()
		err = b.Save(context.Background(), keys.Set{Generation: 1, Keys: []keys.Key{k}})
	}()
	if !errors.Is(err, keys.ErrInvalidSet) {
		t.Fatalf("Save of a key held in memory = %v, want ErrInvalidSet", err)
	}
}
