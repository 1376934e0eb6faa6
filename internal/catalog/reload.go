package catalog

import (
	"context"
	"errors"
	"fmt"
)

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
	// So are the identities attached for write that leave with it, and those it brings.
	changes = append(changes, writerRecords(api, now, m.live.Load(), c)...)
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
