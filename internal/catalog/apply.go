package catalog

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/brokerhq/broker/internal/config"
)

// Mutation is one change asked through the API.
type Mutation struct {
	// Ref names the object.
	Ref Ref
	// Object is the new object (config.Space, config.Stack, ...) whose id matches Ref; nil
	// deletes the object.
	Object any
	// IfMatch, when not zero, is the version the object must have now; AnyVersion asks only
	// that it exist, NoVersion that it not exist, NeverVersion fails always.
	IfMatch int64
	// IfMatchOneOf, when not empty, lists the versions one of which the object must have now
	// (an If-Match listing several); IfMatch is then zero.
	IfMatchOneOf []int64
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
	AuthorizeResult func(Outcome) error
	// Log, when set, records each attempt's change before it is committed, and an attempt
	// recorded but not committed (see ChangeLog).
	Log ChangeLog
}

// Outcome is what a change brings about, as Mutation.AuthorizeResult sees it.
type Outcome struct {
	// Before is the catalog the change is validated against, After the one it makes.
	Before, After *Catalog
	// Written is where the store records cloud identities were attached for write before the
	// change (see writerRecord); the attachments for write of Before and After are not in it.
	Written Written
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
	pending := slices.Clone(m.pendingWriters)
	m.mu.Unlock()

	if mu.Authorize != nil {
		if err := mu.Authorize(cur); err != nil {
			return plan{}, err
		}
	}
	if file.find(mu.Ref) != nil {
		return plan{}, refusal(ErrManagedByConfig,
			"%s %q belongs to the configuration file and can only change there", kindNoun[mu.Ref.Kind], mu.Ref.ID)
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
	if mu.Object == nil && before == nil {
		// A deletion of what does not exist is not found, whatever its preconditions: without
		// them it would be, and they apply only to a request that could otherwise succeed.
		return plan{}, refusal(ErrNotFound, "%s %q does not exist", kindNoun[mu.Ref.Kind], mu.Ref.ID)
	}
	if mu.IfMatch == AnyVersion && before == nil {
		return plan{}, refusal(ErrPrecondition, "%s %q does not exist", kindNoun[mu.Ref.Kind], mu.Ref.ID)
	}
	if mu.IfMatch == NoVersion && before != nil {
		if inForce.find(mu.Ref) == nil {
			return plan{}, refusal(ErrPrecondition, "%s %q exists in the store (version %d), left out of the catalog in force (see the broker's log); a put without If-None-Match replaces it",
				kindNoun[mu.Ref.Kind], mu.Ref.ID, version)
		}
		return plan{}, refusal(ErrPrecondition, "%s %q exists (version %d)", kindNoun[mu.Ref.Kind], mu.Ref.ID, version)
	}
	if mu.IfMatch == NeverVersion {
		return plan{}, refusal(ErrPrecondition, "If-Match names no version of %s %q (a weak entity tag, or one that is not a version's ETag)", kindNoun[mu.Ref.Kind], mu.Ref.ID)
	}
	if len(mu.IfMatchOneOf) > 0 && (before == nil || !slices.Contains(mu.IfMatchOneOf, version)) {
		if before == nil {
			return plan{}, refusal(ErrPrecondition, "%s %q does not exist", kindNoun[mu.Ref.Kind], mu.Ref.ID)
		}
		return plan{}, refusal(ErrPrecondition, "%s %q is at version %d, none of those If-Match names", kindNoun[mu.Ref.Kind], mu.Ref.ID, version)
	}
	if mu.IfMatch > 0 && before == nil {
		// If-Match is false for an object that does not exist, whatever version its id's
		// tombstone keeps.
		return plan{}, refusal(ErrPrecondition, "%s %q does not exist", kindNoun[mu.Ref.Kind], mu.Ref.ID)
	}
	if mu.IfMatch > 0 && mu.IfMatch != version {
		return plan{}, refusal(ErrPrecondition,
			"%s %q is at version %d, not %d", kindNoun[mu.Ref.Kind], mu.Ref.ID, version, mu.IfMatch)
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
			// Likewise the lifetimes broker runs with, which the file's integrations are checked
			// against at the start.
			if err := config.CheckIntegrationLifetimes(in, self, config.Lifetimes{Token: m.tokenTTL, Run: m.runTTL}); errors.As(err, &errs) {
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
		if err := mu.AuthorizeResult(Outcome{Before: cur, After: c, Written: writtenIn(api).with(pending)}); err != nil {
			return plan{}, err
		}
	}
	recs, err := spaceTemplates{api: api, before: cur, after: c, ref: mu.Ref, was: before, obj: mu.Object}.records(&next, now)
	if err != nil {
		return plan{}, err
	}
	changes = append(changes, recs...)
	writers, err := writersOfChange(next, cur, c)
	if err != nil {
		return plan{}, err
	}
	// The records a refresh of this replica could not commit yet go with the change.
	writers = withUnheld(writers, pending, next)
	for _, ch := range writerChanges(next, now, writers) {
		next.noteTombstone(ch.Ref, ch.Version, ch.Created, ch.Body)
		changes = append(changes, ch)
	}
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
