package redisstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/brokerhq/broker/internal/catalog"
)

// The catalog lives in three keys that share a hash tag, so a commit touches one cluster slot:
// "{catalog}:objects" (a hash of "<kind>/<id>" to "<version>:<created>:<body>"), "{catalog}:rev" (the
// revision) and "{catalog}:commit" (the id of the last commit, which recognises a commit sent
// again after its reply was lost). Commits publish on "<prefix>catalog" after they apply.

// commitCatalogScript applies a commit if the revision is still the expected one, and records
// the commit's id beside the revision: a revision one past the expected one with that id is
// this very commit sent again (its reply was lost), already applied.
// KEYS: objects hash, revision key, last commit id key. ARGV: expected revision, channel,
// commit id, then triples of (field, "put" or "del", value). Returns the new revision, or -1
// when the revision moved.
var commitCatalogScript = redis.NewScript(`
local rev = tonumber(redis.call('GET', KEYS[2]) or '0')
if rev == tonumber(ARGV[1]) + 1 and redis.call('GET', KEYS[3]) == ARGV[3] then return rev end
if rev ~= tonumber(ARGV[1]) then return -1 end
redis.call('SET', KEYS[3], ARGV[3])
for i = 4, #ARGV, 3 do
  if ARGV[i+1] == 'put' then
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i+2])
  else
    redis.call('HDEL', KEYS[1], ARGV[i])
  end
end
local new = redis.call('INCR', KEYS[2])
redis.call('PUBLISH', ARGV[2], new)
return new
`)

// loadCatalogScript reads the revision and every object in one atomic step.
// KEYS: objects hash, revision key. Returns {revision, field, value, field, value, ...}.
var loadCatalogScript = redis.NewScript(`
local out = {redis.call('GET', KEYS[2]) or '0'}
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all do out[#out+1] = all[i] end
return out
`)

// catalogStore is the catalog.Store view of a Client.
type catalogStore struct {
	c *Client
}

var _ catalog.Store = (*catalogStore)(nil)

// Catalog returns the catalog store view of the client.
func (c *Client) Catalog() catalog.Store { return &catalogStore{c: c} }

func (s *catalogStore) keys() []string {
	return []string{s.c.key("{catalog}:", "objects"), s.c.key("{catalog}:", "rev"), s.c.key("{catalog}:", "commit")}
}

func (s *catalogStore) channel() string { return s.c.key("catalog", "") }

// Load implements catalog.Store.
func (s *catalogStore) Load(ctx context.Context) (catalog.Snapshot, error) {
	cctx, cancel := s.c.bound(ctx)
	defer cancel()
	res, err := loadCatalogScript.Run(cctx, s.c.rdb, s.keys()).StringSlice()
	if err != nil {
		return catalog.Snapshot{}, s.fail(ctx, "load catalog", err)
	}
	if len(res) == 0 || len(res)%2 != 1 {
		return catalog.Snapshot{}, fmt.Errorf("redisstore: load catalog: malformed reply")
	}
	rev, err := strconv.ParseInt(res[0], 10, 64)
	if err != nil {
		return catalog.Snapshot{}, fmt.Errorf("redisstore: catalog revision %q is not a number", res[0])
	}
	snap := catalog.Snapshot{Revision: rev, Records: make([]catalog.Record, 0, len(res)/2)}
	for i := 1; i+1 < len(res); i += 2 {
		r, err := parseRecord(res[i], res[i+1])
		if err != nil {
			return catalog.Snapshot{}, err
		}
		snap.Records = append(snap.Records, r)
	}
	catalog.SortRecords(snap.Records)
	return snap, nil
}

func parseRecord(field, value string) (catalog.Record, error) {
	kind, id, ok := strings.Cut(field, "/")
	ver, rest, ok2 := strings.Cut(value, ":")
	created, body, ok3 := strings.Cut(rest, ":")
	v, err := strconv.ParseInt(ver, 10, 64)
	c, err2 := strconv.ParseInt(created, 10, 64)
	if !ok || !ok2 || !ok3 || err != nil || err2 != nil || v < 1 {
		return catalog.Record{}, fmt.Errorf("redisstore: catalog record %q is malformed", field)
	}
	return catalog.Record{Ref: catalog.Ref{Kind: catalog.Kind(kind), ID: id}, Version: v, Created: c, Body: []byte(body)}, nil
}

// Revision implements catalog.Store.
func (s *catalogStore) Revision(ctx context.Context) (int64, error) {
	cctx, cancel := s.c.bound(ctx)
	defer cancel()
	rev, err := s.c.rdb.Get(cctx, s.keys()[1]).Int64()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	if err != nil {
		return 0, s.fail(ctx, "catalog revision", err)
	}
	return rev, nil
}

// Commit implements catalog.Store.
func (s *catalogStore) Commit(ctx context.Context, rev int64, changes []catalog.Change) (int64, error) {
	var id [16]byte
	if _, err := rand.Read(id[:]); err != nil {
		return 0, fmt.Errorf("redisstore: commit id: %w", err)
	}
	args := make([]any, 0, 3+3*len(changes))
	args = append(args, rev, s.channel(), hex.EncodeToString(id[:]))
	for _, ch := range changes {
		field := string(ch.Ref.Kind) + "/" + ch.Ref.ID
		if ch.Body == nil {
			args = append(args, field, "del", "")
			continue
		}
		args = append(args, field, "put", strconv.FormatInt(ch.Version, 10)+":"+strconv.FormatInt(ch.Created, 10)+":"+string(ch.Body))
	}
	cctx, cancel := s.c.bound(ctx)
	defer cancel()
	n, err := commitCatalogScript.Run(cctx, s.c.rdb, s.keys(), args...).Int64()
	if err != nil {
		return 0, s.fail(ctx, "commit catalog", err)
	}
	if n < 0 {
		return 0, catalog.ErrStale
	}
	return n, nil
}

// Notify implements catalog.Store with Redis pub/sub. A dropped subscription loses notices;
// replicas also poll Revision.
func (s *catalogStore) Notify(ctx context.Context) <-chan struct{} {
	out := make(chan struct{}, 1)
	sub := s.c.rdb.Subscribe(ctx, s.channel())
	go func() {
		defer close(out)
		defer sub.Close()
		msgs := sub.Channel()
		for {
			select {
			case <-ctx.Done():
				return
			case _, ok := <-msgs:
				if !ok {
					return
				}
				select {
				case out <- struct{}{}:
				default:
				}
			}
		}
	}()
	return out
}

// fail wraps err as the catalog's unavailability when Redis could not be reached.
func (s *catalogStore) fail(ctx context.Context, op string, err error) error {
	err = s.c.fail(ctx, op, err)
	if errors.Is(err, ErrUnavailable) {
		return fmt.Errorf("%w: %w", catalog.ErrUnavailable, err)
	}
	return err
}
