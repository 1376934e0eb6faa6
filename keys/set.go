package keys

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ErrInvalidSet is returned by Set.Validate (and so by every Backend.Save) for a malformed set.
var ErrInvalidSet = errors.New("keys: invalid key set")

// maxKIDLen bounds a KID; a thumbprint is 43 characters.
const maxKIDLen = 128

// Validate checks that s can be saved: Generation at least 1, and every key with a KID made of
// base64url characters (it becomes a file name and a JWT header value), unique in the set, that
// is its public key's thumbprint (every stored backend checks it again on Load), a supported Alg
// matching its Signer, and Created and Activates set; at most maxRevocations
// revocations, none of a key in the set.
func (s Set) Validate() error {
	if s.Generation < 1 {
		return fmt.Errorf("%w: generation %d, want at least 1", ErrInvalidSet, s.Generation)
	}
	seen := make(map[string]bool, len(s.Keys))
	for i, k := range s.Keys {
		if err := validKID(k.KID); err != nil {
			return fmt.Errorf("%w: key %d: %w", ErrInvalidSet, i, err)
		}
		if seen[k.KID] {
			return fmt.Errorf("%w: duplicate kid %s", ErrInvalidSet, k.KID)
		}
		seen[k.KID] = true
		if k.Signer == nil {
			return fmt.Errorf("%w: key %s has no signer", ErrInvalidSet, k.KID)
		}
		if err := checkAlg(k.Alg, k.Signer); err != nil {
			return fmt.Errorf("%w: key %s: %w", ErrInvalidSet, k.KID, err)
		}
		if kid, err := Thumbprint(k.Signer.Public()); err != nil || kid != k.KID {
			return fmt.Errorf("%w: key %s: the kid is not its public key's thumbprint", ErrInvalidSet, k.KID)
		}
		if k.Created.IsZero() || k.Activates.IsZero() {
			return fmt.Errorf("%w: key %s: created and activates must be set", ErrInvalidSet, k.KID)
		}
	}
	if len(s.Revoked) > maxRevocations {
		return fmt.Errorf("%w: %d revocations, at most %d are kept", ErrInvalidSet, len(s.Revoked), maxRevocations)
	}
	for _, r := range s.Revoked {
		if err := validKID(r.KID); err != nil {
			return fmt.Errorf("%w: revocation: %w", ErrInvalidSet, err)
		}
		if seen[r.KID] {
			return fmt.Errorf("%w: key %s is revoked, and in the set", ErrInvalidSet, r.KID)
		}
	}
	return nil
}

// Metas returns the metadata of every key in s, in order.
func (s Set) Metas() []Meta {
	out := make([]Meta, len(s.Keys))
	for i, k := range s.Keys {
		out[i] = k.Meta
	}
	return out
}

// Find returns the key of s with the given KID.
func (s Set) Find(kid string) (Key, bool) {
	i := slices.IndexFunc(s.Keys, func(k Key) bool { return k.KID == kid })
	if i < 0 {
		return Key{}, false
	}
	return s.Keys[i], true
}

// Clone returns a copy of s whose Keys and Revoked slices can be changed without affecting s.
// Signers are shared: they are never mutated.
func (s Set) Clone() Set {
	return Set{Generation: s.Generation, Keys: slices.Clone(s.Keys), Revoked: slices.Clone(s.Revoked)}
}

// maxRevocations bounds Set.Revoked: revocations are rare, and one matters only until every
// replica has loaded a set without the key.
const maxRevocations = 16

// withRevocations returns revoked with the revocations of more whose keys it does not name yet,
// the latest maxRevocations of them, oldest first.
func withRevocations(revoked []Revocation, more ...Revocation) []Revocation {
	out := slices.Clone(revoked)
	for _, r := range more {
		if !slices.ContainsFunc(out, func(o Revocation) bool { return o.KID == r.KID }) {
			out = append(out, r)
		}
	}
	slices.SortStableFunc(out, func(a, b Revocation) int { return a.At.Compare(b.At) })
	if len(out) > maxRevocations {
		out = out[len(out)-maxRevocations:]
	}
	return out
}

// revokes lists the keys of in that s records as revoked.
func (s Set) revokes(in Set) []string {
	var out []string
	for _, r := range s.Revoked {
		if _, ok := in.Find(r.KID); ok {
			out = append(out, r.KID)
		}
	}
	return out
}

func validKID(kid string) error {
	if kid == "" || len(kid) > maxKIDLen {
		return fmt.Errorf("kid must be 1 to %d characters", maxKIDLen)
	}
	if strings.IndexFunc(kid, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_')
	}) >= 0 {
		return fmt.Errorf("kid %q has characters outside base64url", kid)
	}
	return nil
}

// SetMeta is a key set without key material: its generation and its keys' metadata. It is what
// the audit trail records of a set, and what a loaded set is compared with (see Config.Recorded).
type SetMeta struct {
	Generation int64  `json:"generation"`
	Keys       []Meta `json:"keys"`
}

// Meta returns s without key material.
func (s Set) Meta() SetMeta { return SetMeta{Generation: s.Generation, Keys: s.Metas()} }

// find returns the metadata of the key of s with the given KID.
func (s SetMeta) find(kid string) (Meta, bool) {
	i := slices.IndexFunc(s.Keys, func(k Meta) bool { return k.KID == kid })
	if i < 0 {
		return Meta{}, false
	}
	return s.Keys[i], true
}
