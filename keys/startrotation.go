package keys

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// RotationConfig is what StartRotation works on.
type RotationConfig struct {
	// Backend holds the key set; its Generate creates the new keys.
	Backend Backend
	// Policy is the schedule of the replicas that serve the set (its Alg is not used).
	Policy Policy
	// Algs are the chains to rotate; every algorithm the set holds when empty, so a rotation
	// keeps the set's algorithms.
	Algs []string
	// Now is the instant of the rotation.
	Now time.Time
	// Clock, when set, is read once the new keys are made: the replicas count a new key's lead
	// from its Created, so keys that took a while to make (a Transit key version) are dated,
	// and scheduled, from then rather than from Now.
	Clock func() time.Time
}

// Started is a rotation StartRotation saved in one chain.
type Started struct {
	// Alg and KID name the new key, which signs from Activates.
	Alg, KID  string
	Activates time.Time
	// Retired is the key that stops signing at Activates; empty for none.
	Retired string
}

// StartRotation rotates each chain of cfg.Algs at cfg.Now (see ForceRotate: the new key signs
// Lead after it is saved) and saves the result in one change, outside any Manager: it is how an
// operator rotates the key set of running replicas, which pick the change up at their next
// refresh. It fails with ErrRotationPending when a chain's new key is not signing yet, and with
// ErrConflict when a replica changed the set meanwhile; a set with no key is left to the
// replicas to bootstrap (ErrNoSigningKey).
func StartRotation(ctx context.Context, cfg RotationConfig) ([]Started, error) {
	set, err := cfg.Backend.Load(ctx)
	if err != nil {
		return nil, fmt.Errorf("keys: load key set: %w", err)
	}
	if len(set.Keys) == 0 {
		return nil, fmt.Errorf("%w: the key set is empty", ErrNoSigningKey)
	}
	algs := cfg.Algs
	if len(algs) == 0 {
		for _, k := range set.Keys {
			if a, _ := NormalizeAlg(k.Alg); !slices.Contains(algs, a) {
				algs = append(algs, a)
			}
		}
	}
	type made struct {
		d   Decision
		key Key
	}
	var rotations []made
	next := set
	for _, alg := range algs {
		d, err := ForceRotate(cfg.Now, next.Metas(), cfg.Policy.withAlg(alg))
		if err != nil {
			return nil, fmt.Errorf("%s chain: %w", alg, err)
		}
		key, err := cfg.Backend.Generate(ctx, d.Alg, cfg.Now)
		if err != nil {
			return nil, err
		}
		if next, err = Apply(next, d, key); err != nil {
			return nil, err
		}
		rotations = append(rotations, made{d, key})
	}
	if cfg.Clock != nil {
		if at := cfg.Clock(); at.After(cfg.Now) {
			// Every new key is dated, and scheduled, from when the last one was made.
			next = set
			for i, m := range rotations {
				m.d = m.d.Delayed(cfg.Now, at.Sub(cfg.Now))
				if m.d.Activates.After(cfg.Now) {
					m.key.Created = at
				}
				var err error
				if next, err = Apply(next, m.d, m.key); err != nil {
					return nil, err
				}
				rotations[i] = m
			}
		}
	}
	started := make([]Started, 0, len(rotations))
	for _, m := range rotations {
		started = append(started, Started{Alg: m.key.Alg, KID: m.key.KID, Activates: m.d.Activates, Retired: m.d.Retire})
	}
	next.Generation = set.Generation + 1
	if err := cfg.Backend.Save(ctx, next); err != nil {
		return nil, fmt.Errorf("keys: save key set: %w", err)
	}
	return started, nil
}
