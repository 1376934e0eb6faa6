package redisstore_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/testutil/redistest"
	"github.com/brokerhq/broker/keys"
	"github.com/brokerhq/broker/keys/keystest"
)

func TestKeysContract(t *testing.T) {
	srv := redistest.Start(t)
	keystest.TestBackend(t, func(t *testing.T) keys.Backend {
		return open(t, srv, uniquePrefix(), suiteTimeout).Keys()
	})
}

// TestKeysStoredForm checks the stored JSON and that a tampered set is refused on Load with an
// error that quotes no key material.
func TestKeysStoredForm(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	prefix := uniquePrefix()
	b := open(t, srv, prefix, suiteTimeout).Keys()
	rdb := srv.Client()
	epoch := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	es := keystest.NewKey(t, keys.ES256, epoch)
	rs := keystest.NewKey(t, keys.RS256, epoch)
	if err := b.Save(ctx, keys.Set{Generation: 1, Keys: []keys.Key{es, rs}}); err != nil {
		t.Fatalf("Save: %v", err)
	}

	raw, err := rdb.Get(ctx, prefix+"keyset").Bytes()
	if err != nil {
		t.Fatalf("GET keyset: %v", err)
	}
	var stored struct {
		Generation int64 `json:"generation"`
		Keys       []struct {
			KID   string `json:"kid"`
			Alg   string `json:"alg"`
			PKCS8 string `json:"pkcs8"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(raw, &stored); err != nil {
		t.Fatalf("stored key set is not JSON: %v", err)
	}
	if stored.Generation != 1 || len(stored.Keys) != 2 || stored.Keys[0].KID != es.KID ||
		stored.Keys[1].Alg != keys.RS256 || stored.Keys[0].PKCS8 == "" {
		t.Fatalf("stored key set: generation %d, %d keys; want generation 1 with %s (ES256) and RS256, private keys included",
			stored.Generation, len(stored.Keys), es.KID)
	}
	if _, err := base64.StdEncoding.DecodeString(stored.Keys[0].PKCS8); err != nil {
		t.Errorf("pkcs8 is not base64: %v", err)
	}

	// Swap the algorithms: each private key no longer suits its alg.
	tampered := strings.Replace(string(raw), `"alg":"ES256"`, `"alg":"XX"`, 1)
	tampered = strings.Replace(tampered, `"alg":"RS256"`, `"alg":"ES256"`, 1)
	tampered = strings.Replace(tampered, `"alg":"XX"`, `"alg":"RS256"`, 1)
	if err := rdb.Set(ctx, prefix+"keyset", tampered, 0).Err(); err != nil {
		t.Fatalf("SET: %v", err)
	}
	_, err = b.Load(ctx)
	if err == nil {
		t.Fatal("Load of a key set with swapped algs succeeded")
	}
	for _, k := range stored.Keys {
		if strings.Contains(err.Error(), k.PKCS8[:16]) {
			t.Errorf("Load error quotes key material: %v", err)
		}
	}
}
