package vaulttransit_test

import (
	"context"
	"testing"
	"time"

	"github.com/brokerhq/broker/keys"
	"github.com/brokerhq/broker/keys/vaulttransit"
)

// editedMeta is a MetaStore whose Load hands back the stored records after edit changed
// them: a vault-transit key set that was corrupted or edited by hand in Redis.
type editedMeta struct {
	vaulttransit.MetaStore
	edit func(*vaulttransit.Records)
}

func (m editedMeta) Load(ctx context.Context) (vaulttransit.Records, error) {
	recs, err := m.MetaStore.Load(ctx)
	if err == nil {
		m.edit(&recs)
	}
	return recs, err
}

// Like the file and redis backends, which refuse on Load any set their Save would refuse, the
// vault-transit backend refuses stored metadata that Set.Validate rejects: a key whose alg does
// not fit its Transit key (an ECDSA key published and used as RS256), a kid listed twice, a key
// listed as revoked, a key without its times. Otherwise the JWKS serves such entries and a
// revoked key keeps signing.
func TestLoadRefusesMalformedStoredSet(t *testing.T) {
	ctx := context.Background()
	v, token := startVault(t)
	name := uniqueKey()
	meta := vaulttransit.NewMemoryMeta()
	a := newBackend(t, v, token, vaulttransit.Config{Key: name, Alg: keys.ES256, Meta: meta})
	saveFirstKey(t, a, keys.ES256)
	cases := []struct {
		name string
		edit func(*vaulttransit.Records)
	}{
		{"alg RS256 on an ECDSA key", func(r *vaulttransit.Records) { r.Keys[0].Alg = keys.RS256 }},
		{"kid listed twice", func(r *vaulttransit.Records) { r.Keys = append(r.Keys, r.Keys[0]) }},
		{"key both held and revoked", func(r *vaulttransit.Records) {
			r.Revoked = []keys.Revocation{{KID: r.Keys[0].KID, At: time.Now()}}
		}},
		{"no created time", func(r *vaulttransit.Records) { r.Keys[0].Created = time.Time{} }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := newBackend(t, v, token, vaulttransit.Config{
				Key: name, Alg: keys.ES256, Meta: editedMeta{MetaStore: meta, edit: c.edit},
			})
			set, err := b.Load(ctx)
			if err == nil {
				t.Errorf("Load accepted a malformed stored set: %v (revoked %v)", set.Metas(), set.Revoked)
			}
		})
	}
}
