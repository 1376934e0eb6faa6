package vaulttransit

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	vaultapi "github.com/hashicorp/vault/api"

	"github.com/brokerhq/broker/keys"
)

// EnvToken is the environment variable broker reads its Vault token from.
const EnvToken = vaultapi.EnvVaultToken

// DefaultTimeout bounds each call to Vault when Config.Timeout is zero.
const DefaultTimeout = 5 * time.Second

// Config configures a Backend.
type Config struct {
	// Address is Vault's base URL (https unless loopback); VAULT_CACERT and the other TLS
	// variables of the Vault client apply.
	Address string
	// Mount is the Transit engine's mount path, Key the name of the Transit key of Alg's chain.
	Mount, Key string
	// Namespace, when set, is sent as X-Vault-Namespace (Vault Enterprise).
	Namespace string
	// Token is the Vault token; required.
	Token string
	// Alg is the configured algorithm (RS256 when empty), whose chain uses Key itself.
	Alg string
	// Timeout bounds every call to Vault; DefaultTimeout when zero.
	Timeout time.Duration
	// Meta keeps the key set's metadata; an in-memory MetaStore when nil.
	Meta MetaStore
	// Adopt, with an empty stored set, takes the versions Transit already holds as the set (see
	// the package documentation). Meant for the memory MetaStore, which a restart empties.
	Adopt bool
	// Prepublish and Retain are the rotation policy's, used by Adopt.
	Prepublish, Retain time.Duration
	// Logger receives token renewal events; slog.Default() when nil.
	Logger *slog.Logger
	// Transport, when set, carries the calls to Vault instead of the Vault client's own.
	Transport http.RoundTripper
	// Now is the clock of Adopt, and of Load leaving out a retired key whose version is gone;
	// time.Now when nil.
	Now func() time.Time
}

// Backend is the vault-transit keys.Backend. Its methods are safe for concurrent use.
type Backend struct {
	cfg  Config
	vc   *vaultapi.Client
	meta MetaStore
	log  *slog.Logger
	// pubs caches the public key of every Transit version read, by ref.
	pubs sync.Map
	// mu guards settings, what was last read of each Transit key's settings, and flights, the
	// reads of them in progress (see usable), both by Transit key name.
	mu       sync.Mutex
	settings map[string]settings
	flights  map[string]*flight
	// stop ends the token renewal; done is closed when it has ended.
	stop context.CancelFunc
	done chan struct{}
}

var _ keys.Backend = (*Backend)(nil)

// ref names one Transit key version.
type ref struct {
	name    string
	version int
}

// New checks cfg, connects to Vault, checks the token (lookup-self), starts renewing it when it
// is renewable, and adopts Transit's versions when cfg.Adopt asks for it. Call Close when done.
func New(ctx context.Context, cfg Config) (*Backend, error) {
	var err error
	if cfg.Alg, err = keys.NormalizeAlg(cfg.Alg); err != nil {
		return nil, err
	}
	switch {
	case cfg.Address == "" || cfg.Mount == "" || cfg.Key == "":
		return nil, errors.New("vaulttransit: address, mount and key are required")
	case cfg.Token == "":
		return nil, fmt.Errorf("vaulttransit: no Vault token: set %s to a token that may create, rotate, read and sign with the Transit keys %s/keys/%s*", EnvToken, cfg.Mount, cfg.Key)
	case cfg.Timeout < 0:
		return nil, fmt.Errorf("vaulttransit: timeout %s is negative", cfg.Timeout)
	}
	cfg.Mount = strings.Trim(cfg.Mount, "/")
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Meta == nil {
		cfg.Meta = NewMemoryMeta()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	vc, err := newClient(cfg)
	if err != nil {
		return nil, err
	}
	b := &Backend{cfg: cfg, vc: vc, meta: cfg.Meta, log: cfg.Logger, stop: func() {}, done: make(chan struct{})}
	tok, err := b.lookupSelf(ctx)
	if err != nil {
		return nil, fmt.Errorf("vaulttransit: check the Vault token from %s: %w", EnvToken, err)
	}
	if cfg.Adopt {
		if err := b.adopt(ctx); err != nil {
			return nil, err
		}
	}
	rctx, stop := context.WithCancel(context.Background())
	b.stop = stop
	go b.renew(rctx, tok)
	return b, nil
}

// Close stops renewing the token and waits for the renewal to end.
func (b *Backend) Close() error {
	b.stop()
	<-b.done
	return nil
}

// nameFor returns the Transit key of alg's chain.
func (b *Backend) nameFor(alg string) string {
	if alg == b.cfg.Alg {
		return b.cfg.Key
	}
	return b.cfg.Key + "-" + strings.ToLower(alg)
}

// Generate implements keys.Backend: version 1 of alg's Transit key when the key does not exist
// yet (it is created), a new version otherwise.
func (b *Backend) Generate(ctx context.Context, alg string, now time.Time) (keys.Key, error) {
	alg, err := keys.NormalizeAlg(alg)
	if err != nil {
		return keys.Key{}, err
	}
	if err := ctx.Err(); err != nil {
		return keys.Key{}, err
	}
	name := b.nameFor(alg)
	version, err := b.newVersion(ctx, name, alg)
	if err != nil {
		return keys.Key{}, err
	}
	pub, err := b.public(ctx, ref{name, version})
	if err != nil {
		return keys.Key{}, err
	}
	kid, err := keys.Thumbprint(pub)
	if err != nil {
		return keys.Key{}, fmt.Errorf("vaulttransit: %s version %d: %w", name, version, err)
	}
	return keys.Key{
		Meta:   keys.Meta{KID: kid, Alg: alg, Created: now, Activates: now},
		Signer: b.signer(ref{name, version}, alg, pub),
	}, nil
}

// Load implements keys.Backend: the stored metadata, each key with a Signer of its Transit
// version. Public keys are read from Vault once and cached. It fails (ErrExportable) when a
// key's Transit key, as last read, can leave Vault and is one of the configured key names (see
// nameFor); the keys of such a Transit key that is not configured are left out (a revocation,
// logged with their KIDs): an operator who configured a new key name gets a set the keys manager
// starts a key in at once.
func (b *Backend) Load(ctx context.Context) (keys.Set, error) {
	recs, err := b.meta.Load(ctx)
	if err != nil {
		return keys.Set{}, fmt.Errorf("vaulttransit: load key set metadata: %w", err)
	}
	set := keys.Set{Generation: recs.Generation, Keys: make([]keys.Key, 0, len(recs.Keys)), Revoked: recs.Revoked}
	for _, r := range recs.Keys {
		k, err := b.key(ctx, r)
		if errors.Is(err, errNoVersion) && !r.Retires.IsZero() && !r.Retires.After(b.cfg.Now()) {
			// A retired key whose Transit version was trimmed or hidden (min_decryption_version)
			// while it was still published: it signs no more, and its public key is gone, so it
			// is left out of the JWKS rather than keeping every replica from starting.
			b.log.Warn("vault-transit: a retired key's Transit version is no longer in Vault; it leaves the JWKS before its retain ends",
				"kid", r.KID, "transit_key", r.TransitKey, "version", r.TransitVersion)
			continue
		}
		if errors.Is(err, ErrExportable) && !b.configured(r.TransitKey) {
			// A key of a Transit key that can leave Vault and that broker was configured away
			// from (a new key name, as ErrExportable advises): it is revoked, leaving the set and
			// the JWKS, so that the keys manager starts the chain again on the configured key.
			b.log.Warn("vault-transit: a key of an exportable Transit key that is no longer configured leaves the key set (revoked)",
				"kid", r.KID, "transit_key", r.TransitKey, "version", r.TransitVersion)
			set.Withdrawn = append(set.Withdrawn, r.Meta)
			continue
		}
		if err != nil {
			return keys.Set{}, err
		}
		set.Keys = append(set.Keys, k)
	}
	// A set Save would refuse (an alg that does not fit its Transit key, a kid listed twice or
	// also revoked, a key without its times) is no set broker wrote: a hand edit or a
	// corruption, refused as the file and redis backends refuse theirs.
	if set.Generation > 0 {
		if err := set.Validate(); err != nil {
			return keys.Set{}, fmt.Errorf("vaulttransit: stored key set metadata: %w", err)
		}
	}
	return set, nil
}

// configured reports whether name is the Transit key of one of the algorithm chains broker is
// configured with (see nameFor).
func (b *Backend) configured(name string) bool {
	return name == b.nameFor(keys.RS256) || name == b.nameFor(keys.ES256)
}

// Ping reports whether Vault answers for the Transit key of the configured algorithm with the
// backend's token, within the backend's timeout, and the key cannot leave Vault (ErrExportable):
// what a replica needs to sign. Readiness calls it, since a replica that holds the keys' public
// halves keeps loading its key set while Vault is away, and cannot sign.
func (b *Backend) Ping(ctx context.Context) error {
	info, err := b.readKey(ctx, b.nameFor(b.cfg.Alg))
	if err != nil {
		return err
	}
	if info == nil {
		return fmt.Errorf("%w: vault-transit: Transit key %s/keys/%s does not exist", keys.ErrUnavailable, b.cfg.Mount, b.nameFor(b.cfg.Alg))
	}
	return nil
}

// errNoVersion: the Transit key does not list the version a record names (trimmed, or hidden
// by min_decryption_version).
var errNoVersion = errors.New("no such Transit key version")

// key returns the key of a record, checking that its Transit version has its KID.
func (b *Backend) key(ctx context.Context, r Record) (keys.Key, error) {
	rf := ref{r.TransitKey, r.TransitVersion}
	pub, err := b.public(ctx, rf)
	if err != nil {
		return keys.Key{}, err
	}
	if _, err := b.known(rf.name); err != nil {
		return keys.Key{}, err
	}
	if kid, err := keys.Thumbprint(pub); err != nil || kid != r.KID {
		return keys.Key{}, fmt.Errorf("vaulttransit: %w: Transit key %s version %d is not key %s (was the Transit key replaced?)",
			keys.ErrInvalidSet, rf.name, rf.version, r.KID)
	}
	return keys.Key{Meta: r.Meta, Signer: b.signer(rf, r.Alg, pub)}, nil
}

// Save implements keys.Backend: a compare-and-swap of the metadata of next, whose keys must all
// come from this backend.
func (b *Backend) Save(ctx context.Context, next keys.Set) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := next.Validate(); err != nil {
		return err
	}
	recs := Records{Generation: next.Generation, Keys: make([]Record, len(next.Keys)), Revoked: next.Revoked}
	for i, k := range next.Keys {
		s, ok := k.Signer.(*signer)
		if !ok || s.b != b {
			return fmt.Errorf("%w: key %s was not generated by this vault-transit backend", keys.ErrInvalidSet, k.KID)
		}
		recs.Keys[i] = Record{Meta: k.Meta, TransitKey: s.ref.name, TransitVersion: s.ref.version}
	}
	return b.meta.Save(ctx, recs)
}

// forget drops the cached public keys of the Transit key name.
func (b *Backend) forget(name string) {
	b.pubs.Range(func(k, _ any) bool {
		if k.(ref).name == name {
			b.pubs.Delete(k)
		}
		return true
	})
}

// public returns the public key of a Transit version, reading the Transit key on a cache miss.
func (b *Backend) public(ctx context.Context, r ref) (crypto.PublicKey, error) {
	if pub, ok := b.pubs.Load(r); ok {
		return pub, nil
	}
	info, err := b.readKey(ctx, r.name)
	if err != nil {
		return nil, err
	}
	if info == nil {
		return nil, fmt.Errorf("vaulttransit: Transit key %s/keys/%s does not exist", b.cfg.Mount, r.name)
	}
	for _, v := range info.versions {
		b.pubs.Store(ref{r.name, v.version}, v.pub)
	}
	pub, ok := b.pubs.Load(r)
	if !ok {
		return nil, fmt.Errorf("vaulttransit: Transit key %s/keys/%s has no version %d: %w", b.cfg.Mount, r.name, r.version, errNoVersion)
	}
	return pub, nil
}
