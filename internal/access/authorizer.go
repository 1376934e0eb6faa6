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
	keys []apiKey
	byID map[string]int // key id → index in keys
	// paths maps each space to its ids from root down to itself (config.SpacePath).
	paths map[string][]string
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
	paths, err := spacePaths(cfg)
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
		keys:  make([]apiKey, 0, len(cfg.APIKeys)),
		byID:  make(map[string]int, len(cfg.APIKeys)),
		paths: paths,
	}
	secrets := make(map[[sha256.Size]byte]string, len(cfg.APIKeys))
	for _, k := range cfg.APIKeys {
		key, err := resolveKey(k, roles, paths)
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
func resolveKey(k config.APIKey, roles map[string]map[string]bool, paths map[string][]string) (apiKey, error) {
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
		if _, ok := paths[b.Space]; !ok {
			return apiKey{}, fmt.Errorf("%w: API key %q binds unknown space %q", ErrInvalidConfig, k.ID, b.Space)
		}
		key.bindings = append(key.bindings, binding{space: b.Space, actions: actions})
	}
	return key, nil
}

// spacePaths maps each space to its path from root (config.SpacePath), refusing duplicate ids
// and spaces that are not in the tree under root (unknown parents, cycles).
func spacePaths(cfg *config.Config) (map[string][]string, error) {
	paths := make(map[string][]string, len(cfg.Spaces))
	for _, s := range cfg.Spaces {
		if _, dup := paths[s.ID]; dup {
			return nil, fmt.Errorf("%w: duplicate space %q", ErrInvalidConfig, s.ID)
		}
		path := cfg.SpacePath(s.ID)
		if path == nil {
			return nil, fmt.Errorf("%w: space %q is not in the tree under %s", ErrInvalidConfig, s.ID, config.RootSpace)
		}
		paths[s.ID] = path
	}
	return paths, nil
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
		for _, s := range a.paths[space] {
			for _, b := range a.keys[i].bindings {
				if b.space == s && b.actions[action] {
					return nil
				}
			}
		}
	}
	return fmt.Errorf("%w: API key %q may not %s in space %q", ErrForbidden, p.KeyID, action, space)
}
