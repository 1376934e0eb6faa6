package catalog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/brokerhq/broker/internal/config"
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
	m := &Manager{store: cfg.Store, log: cfg.Logger, now: cfg.Now, file: cfg.File, live: &Live{}, runTTL: cfg.RunTTL,
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

// startChanges returns the records this replica, starting on its file, writes to the store, c
// being the catalog built on it and api the store: the tombstones of what left the file as the
// store last saw it (see fileSeen), a version raise for each file object that changed since (see
// versionRaises), as a reload records them, and the record of the file as seen. It also names
// ("kind id") the objects whose leaving it records, those whose version it raises, those
// that entered the file since the record (see addedSince) and those of other kinds that left
// it (see removedSince), which only the record's change records. A leave
// some replica recorded after the record was written (a tombstone strictly newer: one written
// with the record is in it already) is not recorded again: a replica of a release that keeps no
// such record (during a rolling upgrade) records the leaves of its reloads, and its stack's runs
// started since in the new place would end. A record without digests (written by a release
// that kept none) shows no object as changed.
func (m *Manager) startChanges(c *Catalog, api Versioned) (out []Change, names StartChange) {
	now := m.now().UnixMilli()
	if api.seen != nil {
		var gone map[Ref]bool
		out, gone = leaves(*api.seen, c, api, now)
		out = slices.DeleteFunc(out, func(ch Change) bool {
			at, ok := api.Deleted[ch.Ref]
			return ok && api.seenAt > 0 && at > api.seenAt
		})
		for _, ch := range out {
			names.Left = append(names.Left, ch.Ref.String())
		}
		raises := versionRaises(*api.seen, m.file, gone, api)
		for _, ch := range raises {
			names.Changed = append(names.Changed, ch.Ref.String())
		}
		out = append(out, raises...)
		names.Added = addedSince(*api.seen, m.file)
		names.Removed = removedSince(*api.seen, m.file)
	}
	// The templates the file brings are recorded (see heldTemplates); those that left it while
	// no replica ran were recorded when they were in force, unless that was before the records.
	warnFileOverlaps(m.log, heldTemplates(api), m.file)
	out = append(out, templateRecords(api, now, c)...)
	return append(out, seenChange(api, m.file, now)...), names
}

// removedSince names ("kind id", sorted) the objects seen's digests hold that file no longer
// does, of the kinds whose leaving leaves no tombstone (integrations, attachments, roles):
// stacks, spaces and API keys that left are named by leaves. A record written before digests
// were kept names none.
func removedSince(seen fileSeen, file Objects) []string {
	present := map[string]bool{}
	file.each(func(r Ref) { present[r.String()] = true })
	var out []string
	for name := range seen.Digests {
		kind, _, _ := strings.Cut(name, " ")
		switch Kind(kind) {
		case KindStack, KindSpace, KindAPIKey:
			continue
		}
		if !present[name] {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// addedSince names ("kind id") the objects of file that seen does not hold: by their digests,
// or, in a record written before digests were kept, by the stacks, spaces and API keys it
// lists (other kinds cannot be told then).
func addedSince(seen fileSeen, file Objects) []string {
	var out []string
	file.each(func(r Ref) {
		var known bool
		switch {
		case len(seen.Digests) > 0:
			_, known = seen.Digests[r.String()]
		case r.Kind == KindStack:
			_, known = seen.Stacks[r.ID]
		case r.Kind == KindSpace:
			_, known = seen.Spaces[r.ID]
		case r.Kind == KindAPIKey:
			_, known = seen.APIKeys[r.ID]
		default:
			known = true
		}
		if !known {
			out = append(out, r.String())
		}
	})
	return out
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
	m.api, m.inForce, m.head = api, inForce, snap.Head()
	m.put(c)
	m.live.Confirm(asked)
	return nil
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

// Reload replaces the file's objects, checked against the API objects in force in the store as
// it is once this replica's changes in progress are in: not against the stored objects the
// catalog in force leaves out (see buildFitting; stored before a rule that refuses them, say),
// so that those never hold back a reload, one that removes a leaked API key above all. When the
// file does not fit the objects in force (invalid, or colliding with them) it returns the error
// and the catalog in force stays. The catalog put in force is then the one a replica loading
// the store on the new file builds: a left-out object that fits the new file comes back, and a
// reload after which one would push out an object in force is refused (see settled). Whether
// the store's objects fit the old file does not matter: a reload is how a replica whose file
// fell behind another's catches up. The file's stacks and spaces that leave their place are
// recorded in the store (see fileChanges) before the new file is in force, and so is each
// change of a file object, whose version grows.
func (m *Manager) Reload(ctx context.Context, file Objects) (*Catalog, error) {
	return m.reloadWith(ctx, file, nil)
}

// reloadWith is Reload recording through log (nil: none) before the reload is in force.
func (m *Manager) reloadWith(ctx context.Context, file Objects, log ReloadLog) (*Catalog, error) {
	m.changing.Lock()
	defer m.changing.Unlock()
	m.refreshing.Lock()
	defer m.refreshing.Unlock()
	for range maxAttempts {
		c, err := m.reload(ctx, file, log)
		if !errors.Is(err, ErrStale) {
			return c, err
		}
	}
	return nil, fmt.Errorf("catalog: too many concurrent changes to reload the file; %w", ErrStale)
}

// reload is one attempt of Reload; ErrStale when another replica committed first.
func (m *Manager) reload(ctx context.Context, file Objects, log ReloadLog) (*Catalog, error) {
	asked := StartReading()
	snap, api, err := m.load(ctx)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	// No change of this replica is in progress, so the store is as new as the catalog in
	// force, or it went back (see Refresh): what it lost is written back first.
	if snap, api, err = m.writeBack(ctx, snap, api); err != nil {
		return nil, err
	}
	head := snap.Head()
	in := Input{File: file, API: api, Revision: head.Revision, FileCreated: m.fileCreated(file), Issuer: m.issuer}
	// The new file is checked against the API objects in force: the stored ones the catalog
	// in force leaves out (see inForceOnly) neither refuse it nor collide with it.
	checked := in
	checked.API.Objects = inForceOnly(api.Objects, m.api, m.inForce, Ref{})
	c, err := Build(checked)
	if err != nil {
		return nil, err
	}
	// Those fitting, the file wins over a left-out object of its id, and the catalog in force is
	// the one a replica loading the store builds (see settled).
	after := m.withoutCollisions(in)
	c, inForce, err := settled(after, checked, c)
	if err != nil {
		return nil, err
	}
	if err := movedTooDeep(m.live.Load(), c); err != nil {
		return nil, err
	}
	if log != nil {
		if err := log.Before(ctx, c); err != nil {
			return nil, err
		}
	}
	now := m.now().UnixMilli()
	changes := fileChanges(c, m.file, file, api, now)
	// The templates that leave with the old file, and those the new one brings, are recorded.
	warnFileOverlaps(m.log, heldOrInForce(heldTemplates(api), m.live.Load()), file)
	changes = append(changes, templateRecords(api, now, m.live.Load(), c)...)
	if len(changes) > 0 {
		changes = append(changes, seenRecord(api, file, now))
	} else {
		changes = seenChange(api, file, now)
	}
	if len(changes) > 0 {
		if head, err = m.store.Commit(ctx, head, changes); err != nil {
			if log != nil {
				log.NotCommitted(ctx, err)
			}
			return nil, fmt.Errorf("catalog: recording the file's objects that leave, and its subject templates: %w", err)
		}
		checkedObjs, afterObjs := checked.API.Objects, after.API.Objects
		api = api.withTombstones(changes)
		checked.API, after.API = api, api
		checked.API.Objects, after.API.Objects = checkedObjs, afterObjs
		checked.Revision, after.Revision = head.Revision, head.Revision
		if c, err = Build(checked); err != nil {
			return nil, err
		}
		if c, inForce, err = settled(after, checked, c); err != nil {
			return nil, err
		}
	}
	m.api, m.inForce, m.head = api, inForce, head
	m.file = file
	m.put(c)
	m.live.Confirm(asked)
	return c, nil
}

// fileCreated is Input.FileCreated of file: each of its stacks whose id left its place before
// counts as created when it left, and each of its spaces whose id left the catalog before, when
// it left. The caller holds m.mu.
func (m *Manager) fileCreated(file Objects) map[Ref]int64 {
	var created map[Ref]int64
	for _, sp := range file.Spaces {
		if t, ok := m.spacesGone[sp.ID]; ok {
			if created == nil {
				created = map[Ref]int64{}
			}
			created[Ref{Kind: KindSpace, ID: sp.ID}] = t
		}
	}
	now := m.now().UnixMilli()
	for _, st := range file.Stacks {
		if t, ok := m.ended[st.ID]; ok && (m.runTTL <= 0 || now-t <= m.runTTL.Milliseconds()) {
			if created == nil {
				created = map[Ref]int64{}
			}
			created[Ref{Kind: KindStack, ID: st.ID}] = t
		}
	}
	return created
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

// Mutation is one change asked through the API.
type Mutation struct {
	// Ref names the object.
	Ref Ref
	// Object is the new object (config.Space, config.Stack, ...) whose id matches Ref; nil
	// deletes the object.
	Object any
	// IfMatch, when not zero, is the version the object must have now; AnyVersion asks only
	// that it exist, NoVersion that it not exist.
	IfMatch int64
	// Cascade lists further objects to delete in the same commit (a stack's attachments).
	Cascade func(c *Catalog) []Ref
	// Authorize, when set, is asked again with the catalog the change is validated against
	// (refreshed from the store), so a permission that another replica's change just took away
	// is not used; its error is returned as it is.
	Authorize func(c *Catalog) error
	// AuthorizeLeftOut, when set, is asked with the same catalog before the change replaces or
	// deletes a stored object the catalog in force leaves out (see inForceOnly), and before it
	// brings a left-out object back into force (see broughtBack). Replacing one, its error is
	// returned as it is; bringing one back, an error refuses the change with ErrConflict. The
	// API sets it so that only a key with space:admin on the root space repairs a store: an
	// object left out takes no part in any other authorization, so its space's admin is not
	// asked, and an object it brings back (a write attachment, a stack) is not either.
	AuthorizeLeftOut func(c *Catalog) error
	// AuthorizeResult, when set, is asked with the catalog the change is validated against and
	// the catalog the change makes, once that is built: a rule on what the change brings about,
	// whichever object it puts (a stack brought under an autoattach rule, say). Its error is
	// returned as it is.
	AuthorizeResult func(before, after *Catalog) error
	// Log, when set, records each attempt's change before it is committed, and an attempt
	// recorded but not committed (see ChangeLog).
	Log ChangeLog
}

// Result is an applied change.
type Result struct {
	// Catalog is the catalog in force after the change.
	Catalog *Catalog
	// Created is set when the object did not exist before.
	Created bool
	// Version is the object's new version (0 after a deletion).
	Version int64
	// Before is the object as it was (nil when created).
	Before any
	// Deleted lists every object the commit removed, cascades included.
	Deleted []Ref
}

// Apply validates m against the newest objects and commits it; it retries while other
// replicas commit first. Refusals are *ChangeError; store failures wrap ErrUnavailable.
func (m *Manager) Apply(ctx context.Context, mu Mutation) (Result, error) {
	if mu.Object != nil {
		ref, err := RefOf(mu.Object)
		if err != nil {
			return Result{}, err
		}
		if ref != mu.Ref {
			return Result{}, refusal(ErrInvalid, "the body names %s, the path %s", ref, mu.Ref)
		}
	}
	m.changing.RLock()
	defer m.changing.RUnlock()
	for range maxAttempts {
		p, err := m.prepare(ctx, mu)
		if err != nil {
			return Result{}, err
		}
		if mu.Log != nil {
			if err := mu.Log.Before(ctx, p.res); err != nil {
				return Result{}, err
			}
		}
		asked := StartReading()
		newHead, err := m.store.Commit(ctx, p.at, p.changes)
		if err != nil && mu.Log != nil {
			mu.Log.NotCommitted(context.WithoutCancel(ctx), p.res, err)
		}
		if errors.Is(err, ErrStale) {
			if err := m.Refresh(ctx); err != nil {
				return Result{}, err
			}
			continue
		}
		if err != nil {
			return Result{}, err
		}
		m.install(p, newHead, asked)
		return p.res, nil
	}
	return Result{}, refusal(ErrConflict, "too many concurrent changes; try again")
}

// plan is a validated change ready to commit.
type plan struct {
	res     Result
	changes []Change
	// at is the store's state the changes apply to; next is the store's objects after them,
	// and inForce the part of next the catalog after them holds (see Manager.inForce).
	at            Head
	next, inForce Versioned
}

// install puts a committed plan in force, unless the catalog in force is no longer the one it
// was built on (a refresh put this commit, or a newer state, in force first). asked is when the
// commit was sent: the store was at the plan's state then.
func (m *Manager) install(p plan, committed Head, asked Reading) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.head != p.at || committed.Revision != p.at.Revision+1 {
		return
	}
	m.api, m.inForce, m.head = p.next, p.inForce, committed
	m.put(p.res.Catalog)
	m.live.Confirm(asked)
}

// prepare validates mu against the catalog in force (refreshed first) and returns the plan.
// The stored objects the catalog in force leaves out take no part (see inForceOnly), but for
// the one mu replaces or deletes.
func (m *Manager) prepare(ctx context.Context, mu Mutation) (plan, error) {
	if err := m.Refresh(ctx); err != nil {
		return plan{}, err
	}
	m.mu.Lock()
	cur, file, fileCreated, api, inForce, at := m.live.Load(), m.file, m.fileCreated(m.file), m.api, m.inForce, m.head
	m.mu.Unlock()

	if mu.Authorize != nil {
		if err := mu.Authorize(cur); err != nil {
			return plan{}, err
		}
	}
	if file.find(mu.Ref) != nil {
		return plan{}, refusal(ErrManagedByConfig,
			"%s %q belongs to the configuration file and can only change there", mu.Ref.Kind, mu.Ref.ID)
	}
	before := api.find(mu.Ref)
	if before == nil && mu.Object != nil {
		if err := api.declaredInSeen(mu.Ref); err != nil {
			return plan{}, err
		}
	}
	version := api.Versions[mu.Ref]
	if before != nil && inForce.find(mu.Ref) == nil && mu.AuthorizeLeftOut != nil {
		// Asked before any precondition, which would tell the stored version.
		if err := mu.AuthorizeLeftOut(cur); err != nil {
			return plan{}, err
		}
	}
	if mu.IfMatch == AnyVersion && before == nil {
		return plan{}, refusal(ErrPrecondition, "%s %q does not exist", mu.Ref.Kind, mu.Ref.ID)
	}
	if mu.IfMatch == NoVersion && before != nil {
		if inForce.find(mu.Ref) == nil {
			return plan{}, refusal(ErrPrecondition, "%s %q exists in the store (version %d), left out of the catalog in force (see the broker's log); a put without If-None-Match replaces it",
				mu.Ref.Kind, mu.Ref.ID, version)
		}
		return plan{}, refusal(ErrPrecondition, "%s %q exists (version %d)", mu.Ref.Kind, mu.Ref.ID, version)
	}
	if mu.IfMatch > 0 && before == nil {
		// If-Match is false for an object that does not exist, whatever version its id's
		// tombstone keeps.
		return plan{}, refusal(ErrPrecondition, "%s %q does not exist", mu.Ref.Kind, mu.Ref.ID)
	}
	if mu.IfMatch > 0 && mu.IfMatch != version {
		return plan{}, refusal(ErrPrecondition,
			"%s %q is at version %d, not %d", mu.Ref.Kind, mu.Ref.ID, version, mu.IfMatch)
	}
	res := Result{Before: before, Created: before == nil}
	next := Versioned{Objects: api.Objects, Versions: maps.Clone(api.Versions), Created: maps.Clone(api.Created), Deleted: maps.Clone(api.Deleted), From: maps.Clone(api.From), seen: api.seen, seenVersion: api.seenVersion, seenAt: api.seenAt}
	if next.Versions == nil {
		next.Versions = map[Ref]int64{}
	}
	if next.Created == nil {
		next.Created = map[Ref]int64{}
	}
	if next.Deleted == nil {
		next.Deleted = map[Ref]int64{}
	}
	now := m.now().UnixMilli()
	var changes []Change
	self := ""
	if mu.Object == nil {
		if before == nil {
			return plan{}, refusal(ErrNotFound, "%s %q does not exist", mu.Ref.Kind, mu.Ref.ID)
		}
		dels := []Ref{mu.Ref}
		if mu.Cascade != nil {
			for _, r := range mu.Cascade(cur) {
				if api.find(r) != nil {
					dels = append(dels, r)
				}
			}
		}
		for _, r := range dels {
			// A tombstone keeps the id's version, so an object created again goes on from it,
			// and the place the object left (see comesBack).
			gone, body := next.Versions[r]+1, tombstoneBody(placeOf(api.find(r)))
			next.Objects = next.Objects.without(r)
			next.noteTombstone(r, gone, now, body)
			delete(next.Created, r)
			changes = append(changes, Change{Record: Record{Ref: r, Version: gone, Created: now, Body: body}})
		}
		res.Deleted = dels
	} else {
		if before == nil {
			if err := comesBack(api, mu.Ref, mu.Object); err != nil {
				return plan{}, err
			}
		}
		body, err := config.EncodeJSON(mu.Object)
		if err != nil {
			return plan{}, err
		}
		next.Objects = next.Objects.With(mu.Object)
		res.Version = version + 1
		created, ok := next.Created[mu.Ref]
		switch {
		case before == nil || !ok:
			created = now
			if gone, ok := api.Deleted[mu.Ref]; ok {
				// An id that comes back holds it only once every replica, its clock up to a
				// second ahead, is done with the object deleted: what they did with it in the
				// meantime (a run started, an event recorded) stays the old object's.
				created = max(now, gone+SettleTime.Milliseconds())
			}
		case moved(before, mu.Object):
			// Likewise, runs other replicas start in the old place are not the moved stack's
			// (or the moved space's), also when it comes back there.
			created = now + SettleTime.Milliseconds()
			if sp, ok := mu.Object.(config.Space); ok {
				changes = append(changes, forgetPlaces(cur, &next, sp.ID)...)
			}
		}
		next.Versions[mu.Ref], next.Created[mu.Ref] = res.Version, created
		delete(next.Deleted, mu.Ref)
		delete(next.From, mu.Ref)
		changes = append(changes, Change{Record: Record{Ref: mu.Ref, Version: res.Version, Created: created, Body: body}})
	}
	after := m.withoutCollisions(Input{File: file, API: next, Revision: at.Revision + 1, FileCreated: fileCreated, Issuer: m.issuer})
	checked := after
	checked.API.Objects = inForceOnly(after.API.Objects, api, inForce, mu.Ref)
	all := merged(file, checked.API.Objects, m.issuer)
	if mu.Object != nil {
		self = fmt.Sprintf("%s[%d]", listName[mu.Ref.Kind], file.count(mu.Ref.Kind)+checked.API.Objects.index(mu.Ref))
		// The formats of an integration's cloud identifiers, and the bounds on labels, are
		// checked on the object a change puts, not on those stored before the rules (see
		// config.CheckIntegrationFormats and config.CheckLabelLimits).
		var errs config.Errors
		if in, ok := mu.Object.(config.Integration); ok {
			if err := config.CheckIntegrationFormats(in, self); errors.As(err, &errs) {
				return plan{}, classify(errs, all, self)
			}
		}
		if err := config.CheckLabelLimits(mu.Object, self); errors.As(err, &errs) {
			return plan{}, classify(errs, all, self)
		}
	}
	c, err := Build(checked)
	if err != nil {
		var errs config.Errors
		var coll *CollisionError
		switch {
		case errors.As(err, &errs):
			if mu.Object == nil {
				return plan{}, inUse(errs, all, mu.Ref)
			}
			return plan{}, classify(errs, all, self)
		case errors.As(err, &coll):
			return plan{}, refusal(ErrConflict, "%s", coll.Error())
		}
		return plan{}, err
	}
	c, kept, err := settled(after, checked, c)
	if err != nil {
		return plan{}, err
	}
	if back := broughtBack(kept, checked.API); len(back) > 0 && mu.AuthorizeLeftOut != nil {
		if err := mu.AuthorizeLeftOut(cur); err != nil {
			return plan{}, backRefused(back)
		}
	}
	if err := movedTooDeep(cur, c); err != nil {
		return plan{}, err
	}
	if mu.AuthorizeResult != nil {
		if err := mu.AuthorizeResult(cur, c); err != nil {
			return plan{}, err
		}
	}
	recs, err := spaceTemplates{api: api, before: cur, after: c, ref: mu.Ref, was: before, obj: mu.Object}.records(&next, now)
	if err != nil {
		return plan{}, err
	}
	changes = append(changes, recs...)
	res.Catalog = c
	return plan{res: res, changes: changes, at: at, next: next, inForce: kept}, nil
}

// moved reports that after replaces before in another place: a stack in another space, or a
// space under another parent. The object counts as created anew, and the runs in its old place
// stay ended (see Meta.Created).
func moved(before, after any) bool {
	switch b := before.(type) {
	case config.Stack:
		a, ok := after.(config.Stack)
		return ok && a.Space != b.Space
	case config.Space:
		a, ok := after.(config.Space)
		return ok && a.Parent != b.Parent
	}
	return false
}
