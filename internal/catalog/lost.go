package catalog

import (
	"context"
	"fmt"

	"github.com/brokerhq/broker/internal/config"
)

// lostChanges returns, as the changes that put them back, what the store lost of have (the
// store's objects in force on this replica), read against now (the store's objects as read):
//   - each object or tombstone of have that now holds at a lower version or not at all. An
//     object's version only grows, so each is a change the store lost: it went back (wiped, or
//     failed over to a replica that had not received the change), and this replica had the
//     change in force, answered 2xx by some replica;
//   - each object now holds alive, created before a deletion have holds at a version as high
//     or lower: another replica changed it without hearing of the deletion the store lost. Its
//     change stays, but the object counts as created SettleTime after the deletion, as an
//     object created again after it does, so that the deletion still ends what it ended (a
//     stack's runs);
//   - the record of the file as seen (see fileSeen), when the store holds an older one or none.
func lostChanges(have, now Versioned) ([]Change, error) {
	var recs []Record
	for r, v := range have.Versions {
		if now.Versions[r] >= v {
			if gone, deleted := have.Deleted[r]; deleted {
				if obj := now.find(r); obj != nil && now.Created[r] < gone+SettleTime.Milliseconds() {
					rec, err := record(r, now.Versions[r]+1, obj, gone+SettleTime.Milliseconds())
					if err != nil {
						return nil, err
					}
					recs = append(recs, rec)
				}
			}
			continue
		}
		rec := Record{Ref: r, Version: v, Body: tombstoneBody(have.From[r]), Created: have.Deleted[r]}
		if obj := have.find(r); obj != nil {
			var err error
			if rec, err = record(r, v, obj, have.Created[r]); err != nil {
				return nil, err
			}
		}
		recs = append(recs, rec)
	}
	// The record of the file as seen, lost, would have the next start record again what left
	// the file before it (ending the runs of a stack moved then, once more).
	if have.seen != nil && have.seenVersion > now.seenVersion {
		recs = append(recs, Record{Ref: seenRef, Version: have.seenVersion, Created: have.seenAt, Body: encodeSeen(*have.seen)})
	}
	SortRecords(recs)
	out := make([]Change, len(recs))
	for i, rec := range recs {
		out[i] = Change{Record: rec}
	}
	return out, nil
}

// record is obj stored as r at version, created at created.
func record(r Ref, version int64, obj any, created int64) (Record, error) {
	body, err := config.EncodeJSON(obj)
	if err != nil {
		return Record{}, err
	}
	return Record{Ref: r, Version: version, Body: body, Created: created}, nil
}

// fitting returns the changes of lost that the store's objects, with the ones kept before,
// still build with: a change that another replica's change, made without hearing of it, left
// without ground (a space deleted here that a stack created there is in) is not written back,
// and is logged. When the store's objects do not build as they are, every change is kept.
// The caller holds m.mu.
func (m *Manager) fitting(snap Snapshot, lost []Change) []Change {
	if _, err := m.trial(snap, nil); err != nil {
		return lost
	}
	var keep []Change
	for _, ch := range lost {
		if _, err := m.trial(snap, append(keep, ch)); err != nil {
			m.log.Warn("catalog: a change the store lost no longer fits what other replicas did since; it is not written back",
				"kind", string(ch.Ref.Kind), "id", ch.Ref.ID, "problem", err.Error())
			continue
		}
		keep = append(keep, ch)
	}
	return keep
}

// trial builds the store's objects of snap with changes applied over them.
func (m *Manager) trial(snap Snapshot, changes []Change) (*Catalog, error) {
	recs := make(map[Ref]Record, len(snap.Records)+len(changes))
	for _, r := range snap.Records {
		recs[r.Ref] = r
	}
	for _, ch := range changes {
		recs[ch.Ref] = ch.Record
	}
	over := Snapshot{Revision: snap.Revision, Records: make([]Record, 0, len(recs))}
	for _, r := range recs {
		over.Records = append(over.Records, r)
	}
	SortRecords(over.Records)
	api, _, err := decodeRecords(over, m.decoded)
	if err != nil {
		return nil, err
	}
	return Build(Input{File: m.file, API: api, Revision: snap.Revision, Issuer: m.issuer})
}

// writeBack commits the changes the store lost (see lostChanges and fitting) on top of snap,
// the store as read, and returns the store as it is then, decoded. It records them through
// m.writeBackLog before it commits them; when that fails it commits nothing and returns the
// error, and the catalog in force stays. When nothing was lost it returns snap and api as they
// are. ErrStale: the store moved since snap; the next refresh reads it again. The caller holds
// m.mu.
func (m *Manager) writeBack(ctx context.Context, snap Snapshot, api Versioned) (Snapshot, Versioned, error) {
	lost, err := lostChanges(m.api, api)
	if err != nil || len(lost) == 0 {
		return snap, api, err
	}
	if lost = m.fitting(snap, lost); len(lost) == 0 {
		return snap, api, nil
	}
	// Recorded first, as a change asked through the API is: none is in force again without
	// its record, and a record whose commit fails is followed by one saying so.
	// The events are filed as the catalog after the write-back places the objects (as the
	// admin API files a change's event by the catalog after it).
	after, err := m.trial(snap, lost)
	if err != nil {
		after = m.live.Load()
	}
	wb := writtenBack(snap, m.head, lost, after)
	if m.writeBackLog != nil {
		if err := m.writeBackLog.Before(ctx, wb); err != nil {
			return Snapshot{}, Versioned{}, fmt.Errorf("catalog: the store went back and lost changes this replica had in force; they could not be recorded, so none is written back: %w", err)
		}
	}
	m.log.Warn("catalog: the store went back and lost changes this replica had in force; writing them back",
		"changes", len(lost), "revision", snap.Revision, "was", m.head.Revision)
	if _, err := m.store.Commit(ctx, snap.Head(), lost); err != nil {
		if m.writeBackLog != nil {
			m.writeBackLog.NotCommitted(context.WithoutCancel(ctx), wb, err)
		}
		return Snapshot{}, Versioned{}, err
	}
	if snap, err = m.store.Load(ctx); err != nil {
		return Snapshot{}, Versioned{}, err
	}
	api, cache, err := decodeRecords(snap, m.decoded)
	if err != nil {
		return Snapshot{}, Versioned{}, err
	}
	m.decoded = cache
	return snap, api, nil
}
