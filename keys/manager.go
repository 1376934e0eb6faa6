package keys

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync/atomic"
	"time"
)

// ErrNoSigningKey is returned by Refresh when the backend holds no key to sign with.
var ErrNoSigningKey = errors.New("keys: no signing key")

// GenerateFunc creates a key; the backend's Generate is the default.
type GenerateFunc func(ctx context.Context, alg string, now time.Time) (Key, error)

// Config configures a Manager.
type Config struct {
	// Backend persists the key set; required. Several Managers (replicas) may share one.
	Backend Backend
	// Policy is the schedule; each of its Algorithms keeps a chain of keys.
	Policy Policy
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Logger receives rotation events and Run's errors; slog.Default() when nil.
	Logger *slog.Logger
	// Generate creates new keys; Backend.Generate when nil (tests may inject a fake).
	Generate GenerateFunc
	// OnChange, when set, is told of every key-set change this Manager saved; of several
	// replicas deciding the same rotation, only the one whose save won is told. It runs before
	// the change is published and must not block for long.
	OnChange func(ctx context.Context, c Change)
	// OnLoad, when set, is told of every key-set change a refresh put in force that this
	// Manager did not save: another replica's rotation, or `broker keys rotate|revoke`, once
	// the change is in force. It must not block for long.
	OnLoad func(ctx context.Context, l Loaded)
	// WriteBack says the backend's store can lose saved sets (Redis: wiped, or failed over to
	// a replica that had not received the last saves). A set loaded older than the one in
	// force is then the store having gone back, and the Manager saves the set in force over
	// it (see writeBack) instead of taking it.
	WriteBack bool
	// TokenTTL is how long a token signed by a key stays valid. A key retired by a rotation
	// leaves the JWKS Retain after its successor was saved Lead ago (see Published); a replica
	// that published the successor late (it missed refreshes) signs with the old key meanwhile,
	// but never so late that its tokens outlive the old key's place in the JWKS. Zero holds
	// the successor back for Prepublish from its publication here, however late.
	TokenTTL time.Duration
	// Recorded, when set, is the key set the audit trail last recorded (kept beside the trail,
	// see Loaded.InForce and Change.InForce). The first set loaded, when another generation, is
	// compared with it and told to OnLoad like a set another replica saved: a change made while
	// no replica ran. Nil when none is known: the first set loaded is then told of to no one.
	Recorded *SetMeta
}

// Change is one saved change of the key set.
type Change struct {
	// Generation is the new set's generation.
	Generation int64
	// NewKID and NewAlg name the generated key, which signs from Activates; empty when none.
	NewKID, NewAlg string
	Activates      time.Time
	// RetiredKID is the key that stops signing at Retires; empty when none.
	RetiredKID string
	Retires    time.Time
	// Dropped are the expired keys removed from the set.
	Dropped []string
	// DroppedAhead are the keys dated ahead (saved by a replica whose clock ran ahead, see
	// datedAhead) removed from the set, the schedule decided again from now (see Decide): no
	// replica whose clock is right signed with them.
	DroppedAhead []string
	// InForce is the set saved: once the change's event is recorded, the trail accounts for it
	// (see Config.Recorded).
	InForce SetMeta
}

// Snapshot is the key material in force at the last Refresh: the key to sign with and the keys to
// publish in the JWKS. It is immutable.
type Snapshot struct {
	// Signing is the key to sign with by default: that of the policy's Alg, unless that chain's
	// only key is still prepublished and another chain's key has started signing (the algorithm
	// was just changed), which then signs until it takes over.
	Signing Key
	// Signers holds the signing key of each algorithm of the policy, in the policy's order: of
	// the chains other than Signing's, only keys that are due (an added chain's first key is
	// prepublished, and until then no key signs with its algorithm).
	Signers []Key
	// Published are the keys of the JWKS, ordered by Activates.
	Published []Key
	// Generation is the generation of the set the snapshot comes from.
	Generation int64
	// Version identifies the signing KIDs and the published KID list: it changes if and only if
	// one of them does, so it can serve as the JWKS ETag.
	Version string
	// At is the instant the snapshot was computed for.
	At time.Time
}

// SigningFor returns the key that signs with alg.
func (s *Snapshot) SigningFor(alg string) (Key, bool) {
	for _, k := range s.Signers {
		if k.Alg == alg {
			return k, true
		}
	}
	return Key{}, false
}

// Manager applies the rotation policy to a backend and keeps a Snapshot of the keys in force.
// Its methods are safe for concurrent use.
//
// A key becomes one of the Manager's signers only once it has been in the Manager's own
// published snapshot for Prepublish, whatever its Activates says; until then the chain's previous
// key keeps signing. This keeps the rule on a replica that picked a new key up late (a slow
// refresh, a store briefly unreachable). The keys of the first snapshot count as published since
// ever: the replica served no JWKS before it.
type Manager struct {
	backend  Backend
	policy   Policy
	now      func() time.Time
	log      *slog.Logger
	generate GenerateFunc
	onChange func(ctx context.Context, c Change)
	onLoad   func(ctx context.Context, l Loaded)
	tokenTTL time.Duration
	// inForce is the set of the last snapshot, the one a refresh compares what it loads with;
	// loaded holds the changes found so, to tell onLoad once they are in force. Guarded by sem.
	inForce Set
	// departed holds the KIDs that left a set in force here (or the set the audit trail last
	// recorded): a stored set that brings one back is not taken (see load). Guarded by sem.
	departed map[string]struct{}
	// writeBack is Config.WriteBack.
	writeBack bool
	loaded    []Loaded
	// recorded is Config.Recorded until the first set is loaded. Guarded by sem.
	recorded *SetMeta

	sem      chan struct{} // serializes Refresh and Rotate
	snapshot atomic.Pointer[Snapshot]
	// publishedSince is when each published KID first entered this Manager's snapshot; the zero
	// time for the keys of the first snapshot. Guarded by sem.
	publishedSince map[string]time.Time
}

// NewManager checks cfg and returns a Manager. Call Refresh before using Snapshot.
func NewManager(cfg Config) (*Manager, error) {
	if cfg.Backend == nil {
		return nil, errors.New("keys: manager needs a backend")
	}
	if err := cfg.Policy.Validate(); err != nil {
		return nil, err
	}
	cfg.Policy.Alg, _ = NormalizeAlg(cfg.Policy.Alg)
	m := &Manager{
		backend:   cfg.Backend,
		policy:    cfg.Policy,
		now:       cfg.Now,
		log:       cfg.Logger,
		generate:  cfg.Generate,
		onChange:  cfg.OnChange,
		tokenTTL:  cfg.TokenTTL,
		onLoad:    cfg.OnLoad,
		sem:       make(chan struct{}, 1),
		writeBack: cfg.WriteBack,
		recorded:  cfg.Recorded,
	}
	if m.now == nil {
		m.now = time.Now
	}
	if m.log == nil {
		m.log = slog.Default()
	}
	if m.generate == nil {
		m.generate = cfg.Backend.Generate
	}
	return m, nil
}

// Snapshot returns the keys in force at the last successful Refresh or Rotate; nil before the
// first one.
func (m *Manager) Snapshot() *Snapshot { return m.snapshot.Load() }

// InForce returns the key set in force, without key material: the one the last Refresh or Rotate
// loaded or saved (Generation 0 and no keys before the first).
func (m *Manager) InForce(ctx context.Context) (SetMeta, error) {
	if err := m.lock(ctx); err != nil {
		return SetMeta{}, err
	}
	defer m.unlock()
	return m.inForce.Meta(), nil
}

// Refresh loads the key set, applies the policy at Now (generating a key, scheduling a retirement
// or dropping expired keys as Decide says) and updates the snapshot. When another replica saved
// first (ErrConflict) it takes that replica's set as it is: the rotation happened there. changed
// reports that the snapshot's Version changed.
//
// When the store cannot be read or written, the set in force is published again at Now before
// the error is returned: the schedule's hand-overs are functions of the clock, so a retired key
// stops signing, and an expired one leaves the JWKS, on time without the store.
func (m *Manager) Refresh(ctx context.Context) (changed bool, err error) {
	if err := m.lock(ctx); err != nil {
		return false, err
	}
	defer m.unlock()
	defer m.tellLoaded(ctx) // once what was loaded is in force
	changed, err = m.refresh(ctx)
	if err != nil && m.snapshot.Load() != nil {
		if c, perr := m.publish(m.inForce, m.now()); perr == nil {
			changed = c
		}
	}
	return changed, err
}

// refresh is Refresh under the lock.
func (m *Manager) refresh(ctx context.Context) (changed bool, err error) {
	set, err := m.load(ctx)
	if err != nil {
		return false, err
	}
	now := m.now()
	m.noteLoaded(set, now)
	// Each Decision changes one chain; a chain needs at most a drop and then a rotation, an
	// unmaintained key a retirement and then a drop, so this bound is never reached.
	withdrawn := set.Withdrawn
	for range 2*(len(set.Keys)+len(m.policy.Algorithms())) + 1 {
		d, ok := Withdraw(now, set.Metas(), withdrawn, m.policy)
		if !ok {
			d = Decide(now, set.Metas(), m.policy)
		}
		if d.Empty() {
			break
		}
		// now moves on to when a slow-made key was dated, or the schedule would judge that key
		// dated ahead; a key made at once leaves it, so the set stays fresh for the next chain.
		set, now, err = m.save(ctx, set, d, now)
		if errors.Is(err, ErrConflict) {
			m.log.DebugContext(ctx, "keys: another replica updated the key set first", "generation", set.Generation+1)
			set, err = m.load(ctx)
			if err == nil {
				m.noteLoaded(set, now)
				break
			}
		}
		if err != nil {
			return false, fmt.Errorf("keys: update key set: %w", err)
		}
	}
	return m.publish(set, now)
}

// Rotate starts a rotation of every chain now (see ForceRotate) and updates the snapshot. A
// chain whose new key is already waiting to sign is left as it is; Rotate fails with
// ErrRotationPending when that is so of every chain, and with ErrConflict when another replica
// changed the set meanwhile (try again).
func (m *Manager) Rotate(ctx context.Context) error {
	if err := m.lock(ctx); err != nil {
		return err
	}
	defer m.unlock()
	defer m.tellLoaded(ctx)
	set, err := m.load(ctx)
	if err != nil {
		return err
	}
	now := m.now()
	m.noteLoaded(set, now)
	var pending error
	rotated := false
	for _, alg := range m.policy.Algorithms() {
		d, err := ForceRotate(now, set.Metas(), m.policy.withAlg(alg))
		if errors.Is(err, ErrRotationPending) {
			pending = err
			continue
		}
		if err != nil {
			return err
		}
		if set, _, err = m.save(ctx, set, d, now); err != nil {
			return fmt.Errorf("keys: rotate: %w", err)
		}
		rotated = true
	}
	if !rotated {
		return pending
	}
	_, err = m.publish(set, now)
	return err
}

// Run calls Refresh now and then every interval until ctx is done, logging errors. interval
// should be RefreshInterval of the policy (its value when not positive): a longer one leaves a
// new key out of this replica's JWKS while other replicas sign with it. It never panics: a panic
// in a backend is logged as an error.
func (m *Manager) Run(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = RefreshInterval(m.policy.Prepublish)
	}
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		m.refreshLogged(ctx)
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

func (m *Manager) refreshLogged(ctx context.Context) {
	defer func() {
		if r := recover(); r != nil {
			m.log.ErrorContext(ctx, "keys: refresh panicked", "panic", fmt.Sprint(r))
		}
	}()
	if _, err := m.Refresh(ctx); err != nil && ctx.Err() == nil {
		m.log.ErrorContext(ctx, "keys: refresh failed", "err", err)
	}
}

// save applies d to set with a new key if needed and saves the result. It also returns the
// instant the decision now holds from: now, or later when the new key took a while to make and
// is dated from when it was.
func (m *Manager) save(ctx context.Context, set Set, d Decision, now time.Time) (Set, time.Time, error) {
	var newKey Key
	at := now
	if d.Generate {
		var err error
		if newKey, err = m.generate(ctx, d.Alg, now); err != nil {
			return set, now, err
		}
		// The replicas count a new key's lead from its Created: one that took a while to make
		// is dated, and scheduled, from when it was made.
		if made := m.now(); made.After(now) && d.Activates.After(now) {
			d = d.Delayed(now, made.Sub(now))
			newKey.Created, at = made, made
		}
	}
	next, err := Apply(set, d, newKey)
	if err != nil {
		return set, now, err
	}
	if err := m.backend.Save(ctx, next); err != nil {
		return set, now, err
	}
	attrs := []any{"generation", next.Generation}
	if d.Generate {
		attrs = append(attrs, "new_kid", newKey.KID, "activates", d.Activates)
	}
	if d.Retire != "" {
		attrs = append(attrs, "retire_kid", d.Retire, "retires", d.Retires)
	}
	c := Change{Generation: next.Generation, RetiredKID: d.Retire, Retires: d.Retires, InForce: next.Meta()}
	c.Dropped, c.DroppedAhead = dropReasons(now, set.Metas(), d.Drop, m.policy)
	if len(c.Dropped) > 0 {
		attrs = append(attrs, "dropped_kids", c.Dropped)
	}
	if len(c.DroppedAhead) > 0 {
		attrs = append(attrs, "dropped_ahead_kids", c.DroppedAhead)
	}
	m.log.InfoContext(ctx, "keys: key set updated", attrs...)
	m.noteDeparted(m.inForce.Metas(), next)
	m.inForce = next // told through onChange, not onLoad
	if m.onChange != nil {
		if d.Generate {
			c.NewKID, c.NewAlg, c.Activates = newKey.KID, newKey.Alg, d.Activates
		}
		m.onChange(ctx, c)
	}
	return next, at, nil
}

// publish computes the snapshot of set at now and stores it.
func (m *Manager) publish(set Set, now time.Time) (bool, error) {
	metas := set.Metas()
	pub := Published(now, metas, m.policy)
	prevSince := m.publishedSince
	added := m.notePublished(pub, now)
	var signers []Key
	for _, alg := range m.policy.Algorithms() {
		sm, ok := m.signing(now, metas, alg)
		if !ok {
			continue
		}
		k, _ := set.Find(sm.KID)
		signers = append(signers, k)
		if !slices.ContainsFunc(pub, func(p Meta) bool { return p.KID == sm.KID }) {
			// Only a chain without a successor for a retired key gets here: publish what signs.
			pub = append(pub, sm)
			slices.SortFunc(pub, compareMeta)
		}
	}
	if len(signers) == 0 || signers[0].Alg != m.policy.Algorithms()[0] {
		m.publishedSince = prevSince // nothing was served
		return false, ErrNoSigningKey
	}
	signing := signers[0]
	if i := slices.IndexFunc(signers, func(k Key) bool { return !k.Activates.After(now) }); signing.Activates.After(now) && i > 0 {
		signing = signers[i]
	}
	// Another chain's key that is not due signs for no audience: relying parties that take only
	// its algorithm may hold a JWKS fetched before it appeared. Keys made to sign at their
	// creation (see immediate) are due at once.
	signers = slices.DeleteFunc(signers, func(k Key) bool {
		return k.KID != signing.KID && k.Activates.After(now) && !immediate(k.Meta)
	})
	snap := &Snapshot{
		Signing:    signing,
		Signers:    signers,
		Published:  make([]Key, 0, len(pub)),
		Generation: set.Generation,
		At:         now,
	}
	h := sha256.New()
	fmt.Fprintf(h, "default=%s\n", signing.KID)
	for _, k := range signers {
		fmt.Fprintf(h, "signing=%s\n", k.KID)
	}
	for _, pm := range pub {
		k, _ := set.Find(pm.KID)
		snap.Published = append(snap.Published, k)
		fmt.Fprintf(h, "published=%s\n", k.KID)
	}
	snap.Version = hex.EncodeToString(h.Sum(nil)[:12])
	old := m.snapshot.Swap(snap)
	if len(added) > 0 {
		served := m.now()
		for _, kid := range added {
			m.publishedSince[kid] = served
		}
	}
	changed := old == nil || old.Version != snap.Version
	if changed {
		m.log.Info("keys: keys in force changed", "signing_kid", snap.Signing.KID, "signers", len(signers), "published", len(pub), "version", snap.Version)
	}
	return changed, nil
}

// notePublished records the keys of pub that enter this Manager's snapshot now, as published
// since now, forgets the keys no longer published, and returns the new ones' KIDs: publish
// stamps them again once the snapshot is served, so that a JWKS served meanwhile, which lacks
// them, counts too.
func (m *Manager) notePublished(pub []Meta, now time.Time) []string {
	first := m.publishedSince == nil
	since := make(map[string]time.Time, len(pub))
	var added []string
	for _, k := range pub {
		t, ok := m.publishedSince[k.KID]
		switch {
		case first:
			t = time.Time{}
		case !ok:
			t = now
			added = append(added, k.KID)
		}
		since[k.KID] = t
	}
	m.publishedSince = since
	return added
}

// signing is Signing for alg without the keys that are not ripe here (the whole chain when that
// leaves none: nothing else can sign with alg). A key is ripe once this Manager has published it
// for Prepublish and it was saved this Manager's Lead ago, whatever Activates says: a rotation
// started with a shorter prepublish than this replica's, and a replica started after another
// one published the key, both count from the servers' own rule. Keys made to sign at their
// creation (see immediate) are always ripe. Keys it does not publish are expired, so not new.
func (m *Manager) signing(now time.Time, metas []Meta, alg string) (Meta, bool) {
	alg, _ = NormalizeAlg(alg)
	ch := chain(metas, alg)
	ripe := slices.DeleteFunc(slices.Clone(ch), func(k Meta) bool {
		if immediate(k) {
			return false
		}
		t, ok := m.publishedSince[k.KID]
		heldHere := ok && !t.IsZero() && now.Before(t.Add(m.policy.Prepublish)) && m.mayHold(k, now)
		return heldHere || now.Before(k.Created.Add(m.policy.Lead()))
	})
	if len(ripe) == 0 {
		return signingOf(now, ch)
	}
	held, _ := signingOf(now, ch)
	sm, ok := signingOf(now, ripe)
	if held.KID != sm.KID {
		m.log.Debug("keys: a key waits to have been published here for prepublish before it signs",
			"kid", held.KID, "published_since", m.publishedSince[held.KID], "signing_kid", sm.KID)
	}
	return sm, ok
}

// mayHold reports whether k may still be held back at now for having been published here late:
// the key it replaces, which signs meanwhile, leaves the JWKS Retain after k was saved Lead ago,
// and a token signed now must expire before that.
func (m *Manager) mayHold(k Meta, now time.Time) bool {
	return m.tokenTTL <= 0 || now.Before(k.Created.Add(m.policy.Lead()+m.policy.Retain-m.tokenTTL))
}

func (m *Manager) lock(ctx context.Context) error {
	select {
	case m.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (m *Manager) unlock() { <-m.sem }
