package vaulttransit

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/brokerhq/broker/keys"
)

// adopt saves, when the stored set is empty, the set of the versions Transit already holds for
// each algorithm (see the package documentation). Two replicas adopting at once compute the same
// set; one saves it.
func (b *Backend) adopt(ctx context.Context) error {
	recs, err := b.meta.Load(ctx)
	if err != nil {
		return fmt.Errorf("vaulttransit: load key set metadata: %w", err)
	}
	if recs.Generation != 0 {
		return nil
	}
	now := b.cfg.Now()
	var adopted []keys.Key
	for _, alg := range []string{keys.RS256, keys.ES256} {
		name := b.nameFor(alg)
		info, err := b.readKey(ctx, name)
		if err != nil {
			return err
		}
		if info == nil || len(info.versions) == 0 {
			continue
		}
		if err := b.checkType(name, alg, info); err != nil {
			return err
		}
		adopted = append(adopted, b.chainOf(alg, info, now)...)
	}
	if len(adopted) == 0 {
		return nil
	}
	err = b.Save(ctx, keys.Set{Generation: 1, Keys: adopted})
	if errors.Is(err, keys.ErrConflict) {
		return nil // another replica saved first
	}
	if err != nil {
		return fmt.Errorf("vaulttransit: adopt Transit's key versions: %w", err)
	}
	kids := make([]string, len(adopted))
	for i, k := range adopted {
		kids[i] = k.KID
	}
	b.log.Info("vault-transit: adopted the key versions Transit holds", "kids", kids)
	return nil
}

// chainOf returns the keys of the versions info lists of alg's Transit key (named by nameFor):
// each signing from its creation plus Prepublish until its successor does, those whose
// successor started more than Retain before now left out (the latest always kept). The latest
// version, when an older one is kept, signs no earlier than now plus Prepublish: Transit does
// not tell a version broker published from one rotated in Vault behind broker's back, which no
// JWKS has served, so it is published for Prepublish from now before it signs, its predecessor
// signing meanwhile.
func (b *Backend) chainOf(alg string, info *keyInfo, now time.Time) []keys.Key {
	out := b.versionKeys(alg, info, now)
	if n := len(out); n >= 2 {
		if held := now.Add(b.cfg.Prepublish); out[n-1].Activates.Before(held) {
			out[n-1].Activates = held
			out[n-2].Retires = held
		}
	}
	return out
}

// versionKeys is chainOf on Transit's creation times alone.
func (b *Backend) versionKeys(alg string, info *keyInfo, now time.Time) []keys.Key {
	name := b.nameFor(alg)
	var out []keys.Key
	for i, v := range info.versions {
		k := keys.Key{Meta: keys.Meta{Alg: alg, Created: v.created, Activates: v.created.Add(b.cfg.Prepublish)}}
		if i+1 < len(info.versions) {
			k.Retires = info.versions[i+1].created.Add(b.cfg.Prepublish)
			if !now.Before(k.Retires.Add(b.cfg.Retain)) {
				continue
			}
		}
		kid, err := keys.Thumbprint(v.pub)
		if err != nil {
			continue
		}
		k.KID = kid
		r := ref{name, v.version}
		b.pubs.Store(r, v.pub)
		k.Signer = b.signer(r, alg, v.pub)
		out = append(out, k)
	}
	return out
}
