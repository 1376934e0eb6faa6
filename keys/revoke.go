package keys

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// ErrUnknownKey is returned by Revoke for a KID that is not in the set.
var ErrUnknownKey = errors.New("keys: no such key in the set")

// Revoke is the emergency rotation of a lost or leaked key: a pure function of (now, key
// metadata) like Decide. The key kid leaves the set at once (so every replica drops it from its
// JWKS at its next refresh), a new key of its algorithm signs from now, and the chain's key that
// signs now, when it is not kid, retires now (it stays published for Retain: it is not
// compromised, and tokens it signed keep verifying). Unlike a rotation, the new key signs without
// having been published: no relying party can hold it yet, which is the price of never signing
// with kid again; relying parties fetch the JWKS again when they meet its unknown KID.
func Revoke(now time.Time, set []Meta, kid string) (Decision, error) {
	var target Meta
	found := false
	for _, m := range set {
		if m.KID == kid {
			target, found = m, true
		}
	}
	if !found {
		return Decision{}, fmt.Errorf("%w: %s", ErrUnknownKey, kid)
	}
	alg, _ := NormalizeAlg(target.Alg)
	d := Decision{Alg: alg, Generate: true, Activates: now, Drop: []string{kid}}
	c := chain(set, alg)
	cur, ok := signingOf(now, c)
	switch {
	case ok && cur.KID != kid:
		d.Retire, d.Retires = cur.KID, now
	case ok:
		// The revoked key signs by its metadata, but replicas whose lead is longer than the
		// rotation's may still hold it back and sign with the key before it, which its
		// metadata retired already: that key, not compromised, is retired again now, so that
		// it stays published for retain after the last token it may have signed.
		if prev, found := predecessor(c, cur); found && !prev.Retires.IsZero() && prev.Retires.Before(now) {
			d.Retire, d.Retires = prev.KID, now
		}
	}
	return d, nil
}

// Withdraw is Revoke for keys a backend left out of set when loading it, as it may no longer
// sign with them (a Transit key that can leave Vault, configured away from): the first chain
// of p that such keys leave empty gets a new key signing from now, as a revoked key's
// replacement does, so that its tokens are not held up for a lead while the other chains keep
// the set from counting as fresh. A chain left with a key, even one not due yet, signs with it
// (see Signing). ok is false when no chain of a withdrawn key is empty.
func Withdraw(now time.Time, set, withdrawn []Meta, p Policy) (d Decision, ok bool) {
	algs := p.Algorithms()
	for _, w := range withdrawn {
		alg, _ := NormalizeAlg(w.Alg)
		if !slices.Contains(algs, alg) {
			continue
		}
		if len(chain(set, alg)) == 0 {
			return Decision{Alg: alg, Generate: true, Activates: now}, true
		}
	}
	return Decision{}, false
}

// predecessor returns the key of chain that signed before m: the latest that starts no later.
func predecessor(chain []Meta, m Meta) (Meta, bool) {
	var out Meta
	found := false
	for _, k := range chain {
		if k.KID != m.KID && compareMeta(k, m) < 0 && (!found || compareMeta(k, out) > 0) {
			out, found = k, true
		}
	}
	return out, found
}

// immediate reports that m was made to sign at its creation: a chain's first key, or the
// replacement of a revoked key. No relying party can have fetched a JWKS that lacked it and
// still expect the key it replaced, so a replica signs with it as soon as it is in force.
func immediate(m Meta) bool { return !m.Activates.After(m.Created) }

// RevokeConfig is what RevokeKey works on.
type RevokeConfig struct {
	// Backend holds the key set; its Generate creates the replacement key.
	Backend Backend
	// KID is the key to revoke.
	KID string
	// Now is the instant of the revocation.
	Now time.Time
}

// Revoked is what RevokeKey saved.
type Revoked struct {
	// KID is the revoked key, gone from the set.
	KID string
	// Alg and NewKID name the replacement, which signs from Now.
	Alg, NewKID string
	// Retired is the key that may have signed until Now and is retired at Now: the one signing
	// by the metadata or, when that was KID, the key before it, which replicas still holding
	// KID back signed with; empty for none.
	Retired string
}

// RevokeKey applies Revoke to the backend's set in one save, outside any Manager: it is how an
// operator removes a lost or leaked key from running replicas, which pick the change up at their
// next refresh. The set saved records the revocation (Set.Revoked), so that a replica that holds
// the key in force never saves it back over the set (see Manager.load). It fails with ErrUnknownKey for a KID not in the set, and with ErrConflict when a
// replica changed the set meanwhile (try again).
func RevokeKey(ctx context.Context, cfg RevokeConfig) (Revoked, error) {
	set, err := cfg.Backend.Load(ctx)
	if err != nil {
		return Revoked{}, fmt.Errorf("keys: load key set: %w", err)
	}
	d, err := Revoke(cfg.Now, set.Metas(), cfg.KID)
	if err != nil {
		return Revoked{}, err
	}
	key, err := cfg.Backend.Generate(ctx, d.Alg, cfg.Now)
	if err != nil {
		return Revoked{}, err
	}
	next, err := Apply(set, d, key)
	if err != nil {
		return Revoked{}, err
	}
	at := cfg.Now
	for _, r := range next.Revoked {
		// At orders the records only: dated before one kept (this clock runs behind an
		// earlier revoker's), this one would be the first trimmed, here or by a write-back.
		if r.At.After(at) {
			at = r.At
		}
	}
	next.Revoked = withRevocations(next.Revoked, Revocation{KID: cfg.KID, At: at})
	if err := cfg.Backend.Save(ctx, next); err != nil {
		return Revoked{}, fmt.Errorf("keys: save key set: %w", err)
	}
	return Revoked{KID: cfg.KID, Alg: key.Alg, NewKID: key.KID, Retired: d.Retire}, nil
}
