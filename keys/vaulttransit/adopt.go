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

// chainOf returns the keys of the versions info lists of alg's Transit key (named by nameFor),
// each signing from activates until its successor does, those whose successor started more
// than Retain (and the replicas' Linger) before now left out (the latest always kept). The schedule is a function of
// Transit's creation times alone, so every restart computes the same one.
func (b *Backend) chainOf(alg string, info *keyInfo, now time.Time) []keys.Key {
	name := b.nameFor(alg)
	var out []keys.Key
	for i, v := range info.versions {
		k := keys.Key{Meta: keys.Meta{Alg: alg, Created: v.created, Activates: b.activates(info, i)}}
		if i+1 < len(info.versions) {
			k.Retires = b.activates(info, i+1)
			linger := keys.Policy{Prepublish: b.cfg.Prepublish}.Linger()
			if !now.Before(k.Retires.Add(linger + b.cfg.Retain)) {
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

// activates is when version i of info signs: for the first version listed, its creation plus
// Prepublish, as when broker created it (published from its creation); for every later one,
// Prepublish plus Retain later still. Transit does not tell a version broker published from one
// rotated in Vault behind broker's back (or made by a rotation that was never saved), which no
// JWKS served; and such a version is not always the latest, since broker's own next rotation
// follows it. Held so, every later version first adopted within Prepublish plus Retain of its
// creation (while the version before it is still published by the same rule) is published for
// Prepublish before it signs, however often broker restarts.
func (b *Backend) activates(info *keyInfo, i int) time.Time {
	t := info.versions[i].created.Add(b.cfg.Prepublish)
	if i > 0 {
		t = t.Add(b.cfg.Prepublish + b.cfg.Retain)
	}
	return t
}
