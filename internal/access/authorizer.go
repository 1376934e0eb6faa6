package access

import (
	"crypto/sha256"
	"crypto/subtle"
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
	// ErrInvalidConfig: the configuration cannot back an Authorizer.
	ErrInvalidConfig = errors.New("invalid access configuration")
)

// Principal is an authenticated API key.
type Principal struct {
	// KeyID is the id of the API key, safe to log and to record as an audit actor.
	KeyID string
}

// Authorizer authenticates API keys and checks their role bindings. It is immutable after New
// and safe for concurrent use.
type Authorizer struct {
	keys    []apiKey
	byID    map[string]int // key id → index in keys
	parents map[string]string
}

// apiKey is one configured key with its bindings resolved.
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

// New builds an Authorizer from cfg's spaces, roles and API keys. It fails, wrapping
// ErrInvalidConfig, when a key's secret_sha256 is not 64 hex digits, two keys share an id or a
// secret, a binding names an unknown role or space, or the spaces do not form a tree.
func New(cfg *config.Config) (*Authorizer, error) {
	if cfg == nil {
		return nil, fmt.Errorf("%w: no configuration", ErrInvalidConfig)
	}
	parents, err := spaceParents(cfg.Spaces)
	if err != nil {
		return nil, err
	}
	roles := make(map[string]map[string]bool, len(cfg.Roles))
	for _, r := range cfg.Roles {
		if _, dup := roles[r.ID]; dup {
			return nil, fmt.Errorf("%w: duplicate role %q", ErrInvalidConfig, r.ID)
		}
		actions := make(map[string]bool, len(r.Actions))
		for _, a := range r.Actions {
			actions[a] = true
		}
		roles[r.ID] = actions
	}

	a := &Authorizer{
		keys:    make([]apiKey, 0, len(cfg.APIKeys)),
		byID:    make(map[string]int, len(cfg.APIKeys)),
		parents: parents,
	}
	secrets := make(map[[sha256.Size]byte]string, len(cfg.APIKeys))
	for _, k := range cfg.APIKeys {
		key, err := resolveKey(k, roles, parents)
		if err != nil {
			return nil, err
		}
		if _, dup := a.byID[k.ID]; dup {
			return nil, fmt.Errorf("%w: duplicate API key %q", ErrInvalidConfig, k.ID)
		}
		if other, dup := secrets[key.hash]; dup {
			return nil, fmt.Errorf("%w: API keys %q and %q have the same secret", ErrInvalidConfig, other, k.ID)
		}
		secrets[key.hash] = k.ID
		a.byID[k.ID] = len(a.keys)
		a.keys = append(a.keys, key)
	}
	return a, nil
}

// resolveKey decodes a key's hash and resolves its bindings against roles and spaces.
func resolveKey(k config.APIKey, roles map[string]map[string]bool, parents map[string]string) (apiKey, error) {
	key := apiKey{id: k.ID}
	if k.ID == "" {
		return apiKey{}, fmt.Errorf("%w: an API key has no id", ErrInvalidConfig)
	}
	raw, err := hex.DecodeString(k.SecretSHA256)
	if err != nil || len(raw) != sha256.Size {
		return apiKey{}, fmt.Errorf("%w: API key %q: secret_sha256 must be 64 hex digits", ErrInvalidConfig, k.ID)
	}
	copy(key.hash[:], raw)
	for _, b := range k.Bindings {
		actions, ok := roles[b.Role]
		if !ok {
			return apiKey{}, fmt.Errorf("%w: API key %q binds unknown role %q", ErrInvalidConfig, k.ID, b.Role)
		}
		if _, ok := parents[b.Space]; !ok {
			return apiKey{}, fmt.Errorf("%w: API key %q binds unknown space %q", ErrInvalidConfig, k.ID, b.Space)
		}
		key.bindings = append(key.bindings, binding{space: b.Space, actions: actions})
	}
	return key, nil
}

// spaceParents maps each space id to its parent ("" for a top space) and checks that every
// parent exists and no space is its own ancestor.
func spaceParents(spaces []config.Space) (map[string]string, error) {
	parents := make(map[string]string, len(spaces))
	for _, s := range spaces {
		if _, dup := parents[s.ID]; dup {
			return nil, fmt.Errorf("%w: duplicate space %q", ErrInvalidConfig, s.ID)
		}
		parents[s.ID] = s.Parent
	}
	for _, s := range spaces {
		if _, ok := parents[s.Parent]; s.Parent != "" && !ok {
			return nil, fmt.Errorf("%w: space %q has unknown parent %q", ErrInvalidConfig, s.ID, s.Parent)
		}
	}
	for _, s := range spaces {
		seen := map[string]bool{}
		for id := s.ID; id != ""; id = parents[id] {
			if seen[id] {
				return nil, fmt.Errorf("%w: space %q is its own ancestor", ErrInvalidConfig, s.ID)
			}
			seen[id] = true
		}
	}
	return parents, nil
}

// Authenticate returns the key whose secret is secret. It hashes secret and compares the hash
// with every key's in constant time, with no early exit, so timing reveals neither whether nor
// which key matched. An empty or unknown secret returns an error wrapping ErrUnauthenticated.
func (a *Authorizer) Authenticate(secret string) (Principal, error) {
	if secret == "" {
		return Principal{}, fmt.Errorf("%w: no API key given", ErrUnauthenticated)
	}
	sum := sha256.Sum256([]byte(secret))
	match := -1
	for i := range a.keys {
		eq := subtle.ConstantTimeCompare(sum[:], a.keys[i].hash[:])
		match = subtle.ConstantTimeSelect(eq, i, match)
	}
	if match < 0 {
		return Principal{}, fmt.Errorf("%w: unknown API key", ErrUnauthenticated)
	}
	return Principal{KeyID: a.keys[match].id}, nil
}

// Allowed returns nil when p may perform action in space: one of its bindings is on space or
// an ancestor of it, and the bound role holds action. Otherwise it returns an error wrapping
// ErrForbidden that names the key, the action and the space.
func (a *Authorizer) Allowed(p Principal, action, space string) error {
	i, ok := a.byID[p.KeyID]
	if ok && action != "" {
		if _, known := a.parents[space]; known {
			for s := space; s != ""; s = a.parents[s] {
				for _, b := range a.keys[i].bindings {
					if b.space == s && b.actions[action] {
						return nil
					}
				}
			}
		}
	}
	return fmt.Errorf("%w: API key %q may not %s in space %q", ErrForbidden, p.KeyID, action, space)
}
