package keys

import (
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"
)

// Signing algorithms.
const (
	RS256 = "RS256"
	ES256 = "ES256"
)

// Meta is what is known about a key besides its private half.
type Meta struct {
	// KID is the key id published in the JWKS and the JWT header.
	KID string `json:"kid"`
	// Alg is RS256 or ES256.
	Alg string `json:"alg"`
	// Created is when the key was generated; it is published from then on.
	Created time.Time `json:"created"`
	// Activates is when the key starts signing.
	Activates time.Time `json:"activates"`
	// Retires is when the key stops signing; zero while no successor is scheduled.
	Retires time.Time `json:"retires,omitzero"`
}

// Key is a signing key: a crypto.Signer plus its metadata. Printed with any fmt verb or logged
// through slog it shows its id and algorithm only, and in JSON its Meta only: never its Signer,
// which may hold the private key.
type Key struct {
	Meta
	Signer crypto.Signer
}

// String names the key by its id and algorithm.
func (k Key) String() string { return "key " + k.KID + " (" + k.Alg + ")" }

// Format prints String whatever the verb, so that no verb (%v, %+v, %#v, %d, ...) of a Key, or
// of a Set or Snapshot holding one, prints its Signer.
func (k Key) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, k.String()) }

// MarshalJSON encodes the key's Meta alone.
func (k Key) MarshalJSON() ([]byte, error) { return json.Marshal(k.Meta) }

// LogValue logs the key's id and algorithm only.
func (k Key) LogValue() slog.Value {
	return slog.GroupValue(slog.String("kid", k.KID), slog.String("alg", k.Alg))
}

// Set is the whole key set of one backend at one generation. Generation grows by one with every
// successful Save, which makes Save a compare-and-swap.
type Set struct {
	Generation int64
	Keys       []Key
	// Revoked lists the latest keys revoked from the set (see RevokeKey), at most
	// maxRevocations of them; none of them is in Keys. A replica that never saw a revocation
	// so learns of it from the set, and does not save the key back (see Manager.load).
	Revoked []Revocation
	// Withdrawn lists the keys the backend left out of Keys when it loaded the set, as it may
	// no longer sign with them (see Withdraw); it is never saved.
	Withdrawn []Meta
}

// Revocation records that a key was revoked from the set: it never comes back.
type Revocation struct {
	KID string    `json:"kid"`
	At  time.Time `json:"at"`
}

// Backend persists a key set and creates its keys. A key comes into being inside the backend that
// holds it: memory, file and redis generate it in process and keep its private half; a backend
// backed by a key service (vault-transit) creates it there and hands back a crypto.Signer that
// asks the service to sign, so the private half never leaves it.
type Backend interface {
	// Generate creates a new key of alg (RS256 or ES256) created at now, signing from now until a
	// rotation decision sets its schedule (see Apply). The key joins the set only when a set
	// holding it is saved; a key generated and never saved is never published and never signs.
	Generate(ctx context.Context, alg string, now time.Time) (Key, error)
	// Load returns the current set (Generation 0 and no keys when nothing was ever saved).
	Load(ctx context.Context) (Set, error)
	// Save stores next if the stored generation is still next.Generation-1, and fails with
	// ErrConflict otherwise, so that of several writers deciding the same rotation one wins.
	Save(ctx context.Context, next Set) error
}

// ErrConflict is returned by Backend.Save when another writer saved first.
var ErrConflict = errors.New("keys: key set changed concurrently")
