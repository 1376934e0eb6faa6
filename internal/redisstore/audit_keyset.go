package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/keys"
)

// auditKeySetFormat is the version of the stored record of the key set the trail last recorded.
const auditKeySetFormat = 1

// ErrAuditKeySetCorrupted: the stored record of the key set the trail last recorded is malformed.
var ErrAuditKeySetCorrupted = errors.New("redisstore: stored record of the audited key set is corrupted")

// storedAuditKeySet is the JSON of the record: no key material.
type storedAuditKeySet struct {
	Format int `json:"format"`
	keys.SetMeta
}

// auditKeySet is the audit.KeySetStore view of a Client.
type auditKeySet struct{ c *Client }

var _ audit.KeySetStore = auditKeySet{}

// AuditKeySet returns the client's audit.KeySetStore: the key set the trail last recorded, in
// the one key <prefix>audit:keyset, in the trail's hash slot on a Redis Cluster, replaced by
// each save. Like the trail, it never expires. Errors reaching Redis wrap ErrUnavailable.
func (c *Client) AuditKeySet() audit.KeySetStore { return auditKeySet{c: c} }

func (s auditKeySet) key() string { return s.c.key(s.c.group("audit")+"audit:", "keyset") }

// LoadKeySet implements audit.KeySetStore.
func (s auditKeySet) LoadKeySet(ctx context.Context) (keys.SetMeta, bool, error) {
	cctx, cancel := s.c.bound(ctx)
	defer cancel()
	data, err := s.c.rdb.Get(cctx, s.key()).Bytes()
	if errors.Is(err, redis.Nil) {
		return keys.SetMeta{}, false, nil
	}
	if err != nil {
		return keys.SetMeta{}, false, s.c.fail(ctx, "load the audited key set", err)
	}
	var stored storedAuditKeySet
	if err := json.Unmarshal(data, &stored); err != nil || stored.Format != auditKeySetFormat {
		return keys.SetMeta{}, false, fmt.Errorf("%w: %s is not a record of format %d", ErrAuditKeySetCorrupted, s.key(), auditKeySetFormat)
	}
	return stored.SetMeta, true, nil
}

// SaveKeySet implements audit.KeySetStore.
func (s auditKeySet) SaveKeySet(ctx context.Context, set keys.SetMeta) error {
	data, err := json.Marshal(storedAuditKeySet{Format: auditKeySetFormat, SetMeta: set})
	if err != nil {
		return fmt.Errorf("redisstore: encode the audited key set: %w", err)
	}
	cctx, cancel := s.c.bound(ctx)
	defer cancel()
	if err := s.c.rdb.Set(cctx, s.key(), data, 0).Err(); err != nil {
		return s.c.fail(ctx, "save the audited key set", err)
	}
	return nil
}
