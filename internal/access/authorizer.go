package access

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/brokerhq/broker/internal/config"
)

// Access errors. Their messages name key ids, actions and spaces, never a secret.
var (
	// ErrUnauthenticated: no credential, a malformed one, or one matching no key (HTTP 401).
	ErrUnauthenticated = errors.New("unauthenticated")
	// ErrForbidden: an authenticated key lacks the action in the space (HTTP 403).
	ErrForbidden = errors.New("forbidden")

	// errNoKey and errUnknownKey are Authenticate's refusals, made once: a run's token request
	// asks Authenticate whether its audience is a secret, and is refused nothing when it is not.
	errNoKey      = fmt.Errorf("%w: no API key given", ErrUnauthenticated)
	errUnknownKey = fmt.Errorf("%w: unknown API key", ErrUnauthenticated)
)

// Principal is an authenticated API key.
type Principal struct {
	// KeyID is the id of the API key, safe to log and to record as an audit actor.
	KeyID string
	// secret is the SHA-256 of the secret Authenticate was given. A key holds its rights only
	// while it still has that secret: a request authenticated before its key was deleted and
	// created again under the same id (a secret replaced) gets none of the new key's. Zero for a
	// Principal made from a key id alone, which names whatever key has that id.
	secret [sha256.Size]byte
}

// Authorizer authenticates API keys and checks their role bindings. It is immutable after
// Build and safe for concurrent use.
type Authorizer struct {
	byHash map[[sha256.Size]byte]*apiKey
	byID   map[string]*apiKey
	// paths maps each space to its ids from root down to itself.
	paths map[string][]string
}

// apiKey is one key with its bindings resolved.
type apiKey struct {
	id       string
	hash     [sha256.Size]byte
	bindings []binding
}

// binding is a role's actions granted on a space and its subtree.
type binding struct {
	space   string
	actions map[string]bool
}

// Input is what an Authorizer checks: roles, API keys and the space tree, already validated
// (package catalog builds Authorizers only from validated objects).
type Input struct {
	Roles   []config.Role
	APIKeys []config.APIKey
	// Paths maps each space id to the space ids from root down to it.
	Paths map[string][]string
}

// Build indexes in. A key whose secret_sha256 is not 64 hex digits can match no secret, and a
// binding naming an unknown role grants nothing; validation refuses both before Build.
func Build(in Input) *Authorizer {
	roles := make(map[string]map[string]bool, len(in.Roles))
	for _, r := range in.Roles {
		actions := make(map[string]bool, len(r.Actions))
		for _, a := range r.Actions {
			actions[a] = true
		}
		roles[r.ID] = actions
	}
	a := &Authorizer{
		byHash: make(map[[sha256.Size]byte]*apiKey, len(in.APIKeys)),
		byID:   make(map[string]*apiKey, len(in.APIKeys)),
		paths:  in.Paths,
	}
	for _, k := range in.APIKeys {
		key := &apiKey{id: k.ID}
		for _, b := range k.Bindings {
			key.bindings = append(key.bindings, binding{space: b.Space, actions: roles[b.Role]})
		}
		a.byID[k.ID] = key
		if raw, err := hex.DecodeString(k.SecretSHA256); err == nil && len(raw) == sha256.Size {
			copy(key.hash[:], raw)
			a.byHash[key.hash] = key
		}
	}
	return a
}

// Known reports whether secret is a key's secret, looked up as Authenticate does, without making
// an error: it serves to cut secrets pasted where they do not belong from log lines.
func (a *Authorizer) Known(secret string) bool {
	if secret == "" {
		return false
	}
	_, ok := a.byHash[sha256.Sum256([]byte(secret))]
	return ok
}

// Authenticate returns the key whose secret is secret, looked up by the SHA-256 of secret: what
// a lookup's timing could reveal is about the hash, which tells nothing of any key's secret. An
// empty or unknown secret returns an error wrapping ErrUnauthenticated.
func (a *Authorizer) Authenticate(secret string) (Principal, error) {
	if secret == "" {
		return Principal{}, errNoKey
	}
	key, ok := a.byHash[sha256.Sum256([]byte(secret))]
	if !ok {
		return Principal{}, errUnknownKey
	}
	return Principal{KeyID: key.id, secret: key.hash}, nil
}

// key is p's key, while it still has the secret p was authenticated with.
func (a *Authorizer) key(p Principal) (*apiKey, bool) {
	key, ok := a.byID[p.KeyID]
	if !ok || (p.secret != [sha256.Size]byte{} && key.hash != p.secret) {
		return nil, false
	}
	return key, true
}

// Current returns an error wrapping ErrUnauthenticated when p's secret no longer names its key:
// the key was deleted, or created again with another secret, since p was authenticated.
func (a *Authorizer) Current(p Principal) error {
	if _, ok := a.key(p); !ok && p.secret != [sha256.Size]byte{} {
		return fmt.Errorf("%w: API key %q was deleted or its secret replaced since the request was authenticated", ErrUnauthenticated, p.KeyID)
	}
	return nil
}

// Allowed returns nil when p may perform action in space: one of its bindings is on space or
// an ancestor of it, and the bound role holds action. Otherwise it returns an error wrapping
// ErrForbidden that names the key, the action and the space, or ErrUnauthenticated when p's
// secret no longer names its key (deleted, or created again with another secret, since).
func (a *Authorizer) Allowed(p Principal, action, space string) error {
	key, ok := a.key(p)
	if !ok {
		if err := a.Current(p); err != nil {
			return err
		}
	}
	if ok && action != "" {
		for _, s := range a.paths[space] {
			for _, b := range key.bindings {
				if b.space == s && b.actions[action] {
					return nil
				}
			}
		}
	}
	return fmt.Errorf("%w: API key %q may not %s in space %q", ErrForbidden, p.KeyID, action, space)
}

// Covers reports whether one of p's bindings is on space or an ancestor of it, whatever its
// role: such a key may read the space's objects.
func (a *Authorizer) Covers(p Principal, space string) bool {
	key, ok := a.key(p)
	if !ok {
		return false
	}
	for _, s := range a.paths[space] {
		for _, b := range key.bindings {
			if b.space == s {
				return true
			}
		}
	}
	return false
}

// Holds reports whether p holds every action of actions in space (through any of its
// bindings covering space): what a key may grant to another key there.
func (a *Authorizer) Holds(p Principal, space string, actions []string) bool {
	for _, act := range actions {
		if a.Allowed(p, act, space) != nil {
			return false
		}
	}
	return true
}
