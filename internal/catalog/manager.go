package catalog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"sync"
	"time"
)

// DefaultPoll is how often a Manager compares its revision with the store's when no notice
// arrives; a replica that missed every notice is still current within this long.
const DefaultPoll = 250 * time.Millisecond

// SettleTime bounds how long after a change commits another replica may still act on the
// catalog from before it, by its own clock: one second for a change to be in force on every
// replica, and as much again for the replicas' clocks to disagree. A stack the file declares
// after the API's stack with its id was deleted counts as placed SettleTime after the deletion,
// so that no run the old stack started on any replica comes back with it.
const SettleTime = 2 * time.Second

// AnyVersion as Mutation.IfMatch asks only that the object exist (If-Match: *).
const AnyVersion int64 = -1

// NoVersion as Mutation.IfMatch asks that the object not exist (If-None-Match: *): a put that
// creates and never replaces, so that two admins creating one id cannot overwrite each other.
const NoVersion int64 = -2

// NeverVersion is Mutation.IfMatch for an If-Match that names no version (only weak entity
// tags, or tags broker never gives): it matches no object, existing or not.
const NeverVersion int64 = -3

// maxAttempts bounds how often a change is retried when other replicas commit first.
const maxAttempts = 50

// ManagerConfig configures a Manager.
type ManagerConfig struct {
	// Store keeps the API's objects.
	Store Store
	// File is the configuration file's objects.
	File Objects
	// Logger receives refresh failures; nil means slog.Default().
	Logger *slog.Logger
	// Now is the clock that stamps created objects; nil means time.Now.
	Now func() time.Time
	// RunTTL is the longest a run lives: how long a stack's leaving its place matters (see
	// Manager.ended); zero remembers it for good.
	RunTTL time.Duration
	// TokenTTL is how long broker's tokens live. With RunTTL, it is checked against each
	// integration a change puts (see config.CheckIntegrationLifetimes); a zero one is not checked.
	TokenTTL time.Duration
	// StartLog records the changes of a file that changed while no replica ran on it before
	// they are committed; nil records none.
	StartLog StartLog
	// WriteBackLog records the changes a store that went back lost, which this replica writes
	// back, before they are committed; nil records none.
	WriteBackLog WriteBackLog
	// Issuer is the issuer URL broker's tokens carry, which some rules on objects read (an
	// assume-role integration's ExternalId begins with its host); "" checks none of them.
	Issuer string
}

// Manager keeps a Live catalog current with its store and file, and applies changes made
// through the API as compare-and-swap commits on the store's revision.
type Manager struct {
	store  Store
	live   *Live
	log    *slog.Logger
	now    func() time.Time
	runTTL time.Duration
	// tokenTTL is ManagerConfig.TokenTTL.
	tokenTTL time.Duration
	// writeBackLog records what writeBack writes back before it commits it; nil records none.
	writeBackLog WriteBackLog
	// issuer is ManagerConfig.Issuer, set on every Input.
	issuer string

	// refreshing makes concurrent Refresh calls wait for one load instead of each loading.
	refreshing sync.Mutex
	// changing is held for reading by each change from its validation to its install, and for
	// writing by Reload: a change validated against the old file never installs a catalog built
	// from it over the reloaded one.
	changing sync.RWMutex
	mu       sync.Mutex // serialises rebuilds and installs
	file     Objects
	// ended maps a stack id to when this replica saw that stack leave its place (deleted, or
	// moved to another space; Unix milliseconds): a file stack that takes that id again counts
	// as created then, so the runs of the stack that left stay ended (see Meta.Created).
	ended map[string]int64
	// spacesGone maps a space id to when this replica last saw that space leave the catalog
	// (Unix milliseconds): a file space that takes the id again counts as created then, so that
	// it does not list the audit events of the space that had the id before. Kept for good: the
	// events are.
	spacesGone map[string]int64
	// head is the store's state the catalog in force was built from.
	head Head
	// api is the decoded store at the revision of the catalog in force.
	api Versioned
	// inForce is the part of api the catalog in force holds: all of it, but for objects that
	// did not fit this replica's file (see buildFitting).
	inForce Versioned
	// pendingWriters are records of identities attached for write that a refresh could not
	// commit (see recordWriters), tried again by every refresh until they land.
	pendingWriters []writerRecord
	// pendingWarned is set once a failure to commit pendingWriters was logged, so a store that
	// keeps refusing is logged once until they land.
	pendingWarned bool
	// decoded caches the last load's objects, so a refresh decodes only what changed; it is
	// used under refreshing.
	decoded map[Ref]decoded
	// fresh is the read Current makes.
	fresh freshness
}

// NewManager loads the store and builds the first catalog. It records in the store, as a
// reload does, the file's stacks and spaces that left their place and its API keys that left
// since the store last saw the file (see fileSeen), and the file as it sees it now. It fails
// when the store cannot be read or written, or the file's and the store's objects together are
// invalid or collide.
func NewManager(ctx context.Context, cfg ManagerConfig) (*Manager, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	m := &Manager{store: cfg.Store, log: cfg.Logger, now: cfg.Now, file: cfg.File, live: &Live{}, runTTL: cfg.RunTTL, tokenTTL: cfg.TokenTTL,
		writeBackLog: cfg.WriteBackLog, issuer: cfg.Issuer}
	for range maxAttempts {
		asked := StartReading()
		snap, api, err := m.load(ctx)
		if err != nil {
			return nil, err
		}
		c, inForce, err := m.buildFitting(Input{File: m.file, API: api, Revision: snap.Revision, Issuer: m.issuer}, Versioned{})
		if err != nil {
			return nil, fmt.Errorf("the configuration file and the objects created through the API do not fit together: %w", err)
		}
		changes, names := m.startChanges(c, api)
		if len(changes) == 0 {
			m.api, m.inForce, m.head = api, inForce, snap.Head()
			m.live.Store(c)
			m.live.Confirm(asked)
			return m, nil
		}
		logged := cfg.StartLog != nil && names.any()
		if logged {
			names.Catalog = c
			if err := cfg.StartLog.Before(ctx, names); err != nil {
				return nil, fmt.Errorf("catalog: the configuration file changed while no replica ran on it, and the change could not be recorded: %w", err)
			}
		}
		// Recorded, the leaves are in the store the next attempt loads.
		_, err = m.store.Commit(ctx, snap.Head(), changes)
		if err != nil && logged {
			cfg.StartLog.NotCommitted(ctx, err)
		}
		if err != nil && !errors.Is(err, ErrStale) {
			return nil, fmt.Errorf("catalog: recording what left the configuration file while no replica ran on it: %w", err)
		}
		if err == nil && names.any() {
			m.log.Warn("catalog: the configuration file changed while no replica ran on it; recorded what left it (their runs end) and gave what changed a new version, as a reload would",
				"left", names.Left, "changed", names.Changed, "added", names.Added, "removed", names.Removed)
		}
	}
	return nil, fmt.Errorf("catalog: too many concurrent changes to start; %w", ErrStale)
}

// load reads the store and decodes it, reusing the objects of the last load (see decoded). The
// caller holds m.refreshing, or is NewManager.
func (m *Manager) load(ctx context.Context) (Snapshot, Versioned, error) {
	snap, err := m.store.Load(ctx)
	if err != nil {
		return Snapshot{}, Versioned{}, err
	}
	api, cache, err := decodeRecords(snap, m.decoded)
	if err != nil {
		return Snapshot{}, Versioned{}, err
	}
	m.decoded = cache
	return snap, api, nil
}

// Live is the catalog in force.
func (m *Manager) Live() *Live { return m.live }

// File returns the file's objects in force.
func (m *Manager) File() Objects {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.file
}

// Refresh reloads the store when its state differs from the one the catalog in force was
// built from: a newer revision, or a store that went back (it lost commits: wiped, or failed
// over to a replica that had not received them). The changes such a store lost that this
// replica had in force are written back first (see lostChanges), so that a deletion, an API
// key's above all, is not undone; the store is then in force as it is. A store whose objects
// no longer fit the file (which validation at commit time prevents) keeps the old catalog and
// returns the error.
func (m *Manager) Refresh(ctx context.Context) error {
	m.refreshing.Lock()
	defer m.refreshing.Unlock()
	asked := StartReading()
	head, err := m.store.Head(ctx)
	if err != nil {
		return err
	}
	m.mu.Lock()
	current := head == m.head
	m.mu.Unlock()
	if current {
		m.live.Confirm(asked)
		m.mu.Lock()
		if len(m.pendingWriters) > 0 {
			m.recordWriters(ctx, nil)
		}
		m.mu.Unlock()
		return nil
	}
	snap, api, err := m.load(ctx)
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if snap.Head() == m.head {
		m.live.Confirm(asked)
		return nil
	}
	snap, api, err = m.writeBack(ctx, snap, api)
	if errors.Is(err, ErrStale) {
		return nil // the store moved: the next refresh reads it again
	}
	if err != nil {
		return err
	}
	if snap.Revision <= m.head.Revision {
		// A change of this replica got in since the load, or the store went back: it did when
		// it is still at the state loaded.
		now, err := m.store.Head(ctx)
		if err != nil {
			return err
		}
		if now != snap.Head() {
			return nil // the next refresh reads the store as it is then
		}
		m.log.Warn("catalog: the store went back to an older state, which lost changes; its objects as they are now are in force",
			"revision", snap.Revision, "was", m.head.Revision)
	}
	c, inForce, err := m.buildFitting(Input{File: m.file, API: api, Revision: snap.Revision, FileCreated: m.fileCreated(m.file), Issuer: m.issuer}, m.inForce)
	if err != nil {
		return fmt.Errorf("catalog revision %d: %w", snap.Revision, err)
	}
	// The identities the catalog going out of force and the one coming in attach for write are
	// recorded: a replica whose configuration file differs from the one that made a change
	// (while a new file rolls out) may attach a stack for write where that replica did not.
	ws := newWriters(api, m.live.Load(), c)
	m.api, m.inForce, m.head = api, inForce, snap.Head()
	m.put(c)
	m.live.Confirm(asked)
	m.recordWriters(ctx, ws)
	return nil
}

// recordWriters commits the records ws and those pending from an earlier refresh that m.api
// lacks (see writerRecord). A commit that fails leaves them pending, for the next refresh
// (every poll) to try again, and is logged unless the store only moved: the catalog is in force
// whatever the store answers. The caller holds m.mu.
func (m *Manager) recordWriters(ctx context.Context, ws []writerRecord) {
	var todo []writerRecord
	seen := map[Ref]bool{}
	for _, w := range append(m.pendingWriters, ws...) {
		r := w.ref()
		if _, held := m.api.From[r]; held || seen[r] {
			continue
		}
		seen[r] = true
		todo = append(todo, w)
	}
	m.pendingWriters = todo
	if len(todo) == 0 {
		return
	}
	changes := writerChanges(m.api, m.now().UnixMilli(), todo)
	head, err := m.store.Commit(ctx, m.head, changes)
	if err != nil {
		if !errors.Is(err, ErrStale) && !m.pendingWarned {
			m.pendingWarned = true
			m.log.Warn("catalog: recording the identities this replica attaches for write; trying again at every refresh", "err", err)
		}
		return
	}
	// Kept as a change of this replica's own (see install), so that a store going back past
	// them finds them lost and they are written back.
	if head.Revision == m.head.Revision+1 {
		m.api, m.inForce, m.head = m.api.withTombstones(changes), m.inForce.withTombstones(changes), head
		// The records change no object: the catalog in force stands for the new revision too.
		if cur := m.live.Load(); cur != nil {
			next := *cur
			next.rev = head.Revision
			m.put(&next)
		}
	}
	m.pendingWriters, m.pendingWarned = nil, false
}

// Run refreshes after every notice from the store and at least every poll, until ctx ends.
func (m *Manager) Run(ctx context.Context, poll time.Duration) {
	if poll <= 0 {
		poll = DefaultPoll
	}
	notices := m.store.Notify(ctx)
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case _, ok := <-notices:
			if !ok {
				notices = nil // the subscription ended; polling goes on
				continue
			}
		case <-t.C:
		}
		if err := m.Refresh(ctx); err != nil && ctx.Err() == nil {
			m.log.Warn("catalog: could not refresh from the store", "err", err)
		}
	}
}

// put puts c in force, noting the stacks that left their place (see ended). The caller holds
// m.mu.
func (m *Manager) put(c *Catalog) {
	now := m.now().UnixMilli()
	if m.runTTL > 0 {
		// A run created before a stack left has expired runTTL later: nothing to end any more.
		maps.DeleteFunc(m.ended, func(_ string, t int64) bool { return now-t > m.runTTL.Milliseconds() })
	}
	if old := m.live.Load(); old != nil {
		for id := range old.spaces {
			if _, ok := c.spaces[id]; !ok {
				if m.spacesGone == nil {
					m.spacesGone = map[string]int64{}
				}
				m.spacesGone[id] = now + 1 // after every event of the old space, in the same millisecond too
			}
		}
		for id, st := range old.stacks {
			if space, ok := c.StackSpace(id); !ok || space != st.Space {
				if m.ended == nil {
					m.ended = map[string]int64{}
				}
				m.ended[id] = now + 1 // after every run of the old stack, in the same millisecond too
			}
		}
	}
	m.live.Store(c)
}
