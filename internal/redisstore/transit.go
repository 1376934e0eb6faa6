package redisstore

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/brokerhq/broker/keys"
	"github.com/brokerhq/broker/keys/vaulttransit"
)

// transitMetaFormat is the version of the stored vault-transit key set metadata.
const transitMetaFormat = 1

// saveTransitMetaScript is the compare-and-swap of TransitMeta's Save: it replaces the value only
// if its generation (0 when there is none) is the expected one.
// KEYS: the metadata key. ARGV: the expected generation, the new JSON. A stored value that is
// this call's JSON is this very call, sent again after its reply was lost (each save has an id
// of its own): saved. Returns saveDone when saved, saveConflict on another generation, and saveNotASet, writing nothing, when the stored
// value is not a key set.
var saveTransitMetaScript = redis.NewScript(`
local gen = 0
local cur = redis.call('GET', KEYS[1])
if cur == ARGV[2] then return 1 end
if cur then
  local ok, set = pcall(cjson.decode, cur)
  if not ok or type(set) ~= 'table' or type(set.generation) ~= 'number' then
    return 3
  end
  gen = set.generation
end
if gen ~= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
return 1
`)

// storedTransitMeta is the JSON of the vault-transit key set metadata: no private material.
type storedTransitMeta struct {
	Format     int                   `json:"format"`
	Generation int64                 `json:"generation"`
	Keys       []vaulttransit.Record `json:"keys"`
	Revoked    []keys.Revocation     `json:"revoked,omitempty"`
	// SaveID is random per Save, so that a save sent again after its reply was lost is told
	// from another replica's save of the same content.
	SaveID string `json:"save_id,omitempty"`
}

// transitMeta is the vaulttransit.MetaStore view of a Client.
type transitMeta struct{ c *Client }

var _ vaulttransit.MetaStore = transitMeta{}

// TransitMeta returns the client's vaulttransit.MetaStore: the vault-transit key set's metadata
// (kids, schedule, Transit key names and versions) in the one key <prefix>{transit}:keyset,
// replaced by a compare-and-swap on its generation. Errors reaching Redis wrap ErrUnavailable.
func (c *Client) TransitMeta() vaulttransit.MetaStore { return transitMeta{c: c} }

func (m transitMeta) key() string { return m.c.key("{transit}:", "keyset") }

// Load implements vaulttransit.MetaStore.
func (m transitMeta) Load(ctx context.Context) (vaulttransit.Records, error) {
	cctx, cancel := m.c.bound(ctx)
	defer cancel()
	data, err := m.c.rdb.Get(cctx, m.key()).Bytes()
	if errors.Is(err, redis.Nil) {
		return vaulttransit.Records{}, nil
	}
	if err != nil {
		return vaulttransit.Records{}, m.c.fail(ctx, "load vault-transit key set", err)
	}
	var stored storedTransitMeta
	if err := json.Unmarshal(data, &stored); err != nil || stored.Format != transitMetaFormat || stored.Generation < 1 {
		return vaulttransit.Records{}, fmt.Errorf("%w: %s is not a vault-transit key set of format %d", ErrKeySetCorrupted, m.key(), transitMetaFormat)
	}
	return vaulttransit.Records{Generation: stored.Generation, Keys: stored.Keys, Revoked: stored.Revoked}, nil
}

// Save implements vaulttransit.MetaStore.
func (m transitMeta) Save(ctx context.Context, next vaulttransit.Records) error {
	data, err := json.Marshal(storedTransitMeta{Format: transitMetaFormat, Generation: next.Generation, Keys: next.Keys,
		Revoked: next.Revoked, SaveID: rand.Text()})
	if err != nil {
		return fmt.Errorf("redisstore: encode vault-transit key set: %w", err)
	}
	cctx, cancel := m.c.bound(ctx)
	defer cancel()
	saved, err := saveTransitMetaScript.Run(cctx, m.c.rdb, []string{m.key()}, next.Generation-1, data).Int()
	if err != nil {
		return m.c.fail(ctx, "save vault-transit key set", err)
	}
	switch saved {
	case saveDone:
		return nil
	case saveNotASet:
		return fmt.Errorf("%w: %s is not a vault-transit key set: refusing to overwrite it", ErrKeySetCorrupted, m.key())
	default:
		return fmt.Errorf("%w: stored generation is not %d", keys.ErrConflict, next.Generation-1)
	}
}
