package redisstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/redisstore"
	"github.com/brokerhq/broker/internal/testutil/redistest"
	"github.com/brokerhq/broker/keys"
	"github.com/brokerhq/broker/keys/keystest"
	"github.com/brokerhq/broker/keys/vaulttransit"
)

// TestTransitMetaRoundTrip: the vault-transit key set metadata saved by one replica loads
// in another with its generation, every record (key metadata, Transit key name and version)
// and its revocations; before any save, Load returns generation 0, no records and no error.
// Guards against: transit.go:Revoked dropped from the stored form in Save
// Guards against: transit.go:Revoked dropped from the Records Load returns
// Guards against: transit.go:Keys dropped from the Records Load returns
// Guards against: transit.go:missing value (redis.Nil) reported as an error by Load
func TestTransitMetaRoundTrip(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	prefix := uniquePrefix()
	empty, err := open(t, srv, prefix, suiteTimeout).TransitMeta().Load(ctx)
	if err != nil || empty.Generation != 0 || len(empty.Keys) != 0 ||
		len(empty.Revoked) != 0 {
		t.Fatalf("Load before any save = %+v, %v; want generation 0, nothing, nil", empty, err)
	}
	es := keystest.NewKey(t, keys.ES256, keysEpoch)
	want := vaulttransit.Records{
		Generation: 1,
		Keys: []vaulttransit.Record{
			{Meta: es.Meta, TransitKey: "broker-es256", TransitVersion: 3},
		},
		Revoked: []keys.Revocation{{KID: "revoked-kid", At: keysEpoch.Add(time.Minute)}},
	}
	if err := open(t, srv, prefix, suiteTimeout).TransitMeta().Save(ctx, want); err != nil {
		t.Fatalf("Save: %v", err)
	}
	got, err := open(t, srv, prefix, suiteTimeout).TransitMeta().Load(ctx)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if got.Generation != 1 || len(got.Keys) != 1 || len(got.Revoked) != 1 {
		t.Fatalf("Load = %+v; want %+v", got, want)
	}
	k := got.Keys[0]
	sameTransit := k.TransitKey == "broker-es256" && k.TransitVersion == 3
	if !keystest.SameMeta(k.Meta, es.Meta) || !sameTransit {
		t.Errorf("loaded record = %+v; want %+v", k, want.Keys[0])
	}
	if r := got.Revoked[0]; r.KID != "revoked-kid" || !r.At.Equal(want.Revoked[0].At) {
		t.Errorf("loaded revocation = %+v; want %+v", r, want.Revoked[0])
	}
}

// TestTransitMetaLoadRefusesMalformed: Load of a stored value that is not a vault-transit
// key set of format 1 (another format, or a field of the wrong type) fails with
// ErrKeySetCorrupted rather than returning part of it as the key set.
// Guards against: transit.go:format check dropped from Load
// Guards against: transit.go:JSON decoding error ignored by Load
func TestTransitMetaLoadRefusesMalformed(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	for _, raw := range []string{
		`{"format":2,"generation":1,"keys":[]}`,
		`{"format":1,"generation":1,"keys":"not a list"}`,
	} {
		prefix := uniquePrefix()
		if err := srv.Client().Set(ctx, prefix+"{transit}:keyset", raw, 0).Err(); err != nil {
			t.Fatal(err)
		}
		got, err := open(t, srv, prefix, suiteTimeout).TransitMeta().Load(ctx)
		if !errors.Is(err, redisstore.ErrKeySetCorrupted) {
			t.Errorf("Load of %s = generation %d, %v; want ErrKeySetCorrupted",
				raw, got.Generation, err)
		}
	}
}

// TestTransitMetaSaveUnencodable: a key set that cannot be encoded as JSON (a revocation
// time past year 9999) is not saved: Save fails and the store keeps no value for it.
// Guards against: transit.go:encoding error of Save ignored
func TestTransitMetaSaveUnencodable(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	prefix := uniquePrefix()
	meta := open(t, srv, prefix, suiteTimeout).TransitMeta()
	far := time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	recs := vaulttransit.Records{Generation: 1, Revoked: []keys.Revocation{{KID: "k", At: far}}}
	if err := meta.Save(ctx, recs); err == nil {
		t.Error("Save of a revocation at year 10000 = nil, want an encoding error")
	}
	n, err := srv.Client().Exists(ctx, prefix+"{transit}:keyset").Result()
	if err != nil || n != 0 {
		t.Errorf("after the failed Save the key set key exists (%d, %v), want it absent",
			n, err)
	}
}
