package catalog

import (
	"context"

	"github.com/brokerhq/broker/internal/config"
)

// lostChanges returns, as the changes that put them back, the records of have (the store's
// objects in force on this replica) that now (the store's objects as read) has at a lower
// version or not at all. An object's version only grows, so each is a change the store lost:
// it went back (wiped, or failed over to a replica that had not received the change), and this
// replica had the change in force, answered 2xx by some replica.
func lostChanges(have, now Versioned) ([]Change, error) {
	var recs []Record
	for r, v := range have.Versions {
		if now.Versions[r] >= v {
			continue
		}
		rec := Record{Ref: r, Version: v, Body: []byte{}, Created: have.Deleted[r]}
		if obj := have.find(r); obj != nil {
			body, err := config.EncodeJSON(obj)
			if err != nil {
				return nil, err
			}
			rec.Body, rec.Created = body, have.Created[r]
		}
		recs = append(recs, rec)
	}
	SortRecords(recs)
	out := make([]Change, len(recs))
	for i, rec := range recs {
		out[i] = Change{Record: rec}
	}
	return out, nil
}

// writeBack commits the changes the store lost (see lostChanges) on top of snap, the store as
// read, and returns the store as it is then, decoded. When nothing was lost it returns snap
// and api as they are. ErrStale: the store moved since snap; the next refresh reads it again.
// The caller holds m.mu.
func (m *Manager) writeBack(ctx context.Context, snap Snapshot, api Versioned) (Snapshot, Versioned, error) {
	lost, err := lostChanges(m.api, api)
	if err != nil || len(lost) == 0 {
		return snap, api, err
	}
	m.log.Warn("catalog: the store went back and lost changes this replica had in force; writing them back",
		"changes", len(lost), "revision", snap.Revision, "was", m.head.Revision)
	if _, err := m.store.Commit(ctx, snap.Head(), lost); err != nil {
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
