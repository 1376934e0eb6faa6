package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/brokerhq/broker/internal/catalog"
)

// The catalog lives in keys that share a hash tag, so a commit touches one cluster slot:
// "{catalog}:objects" (a hash of "<kind>/<id>" to "<version>:<created>:<body>"), "{catalog}:rev" (the
// revision), "{catalog}:commit" (the id of the last commit) and, for an hour after each commit,
// "{catalog}:landed:<commit id>" (the revision it made): the last two recognise a commit sent
// again after its reply was lost. Commits publish on "<prefix>catalog" after they apply.

// commitCatalogScript applies a commit if the store is still at the expected state (revision
// and last commit id), and records the commit's id beside the revision and, for an hour, the
// revision it made under the commit's own landed key: a revision one past the expected one
// with that id, or a landed key, is this very commit sent again (its reply was lost), already
// applied, also when another replica committed since.
// KEYS: objects hash, revision key, last commit id key, this commit's landed key. ARGV:
// expected revision, channel, commit id, expected last commit id, then triples of (field,
// "put" or "del", value). Returns the new revision (the one this commit made, when sent
// again), or -1 when the store is at another state.
var commitCatalogScript = redis.NewScript(`
local rev = tonumber(redis.call('GET', KEYS[2]) or '0')
local last = redis.call('GET', KEYS[3]) or ''
if rev == tonumber(ARGV[1]) + 1 and last == ARGV[3] then return rev end
local landed = redis.call('GET', KEYS[4])
if landed then return tonumber(landed) end
if rev ~= tonumber(ARGV[1]) or last ~= ARGV[4] then return -1 end
redis.call('SET', KEYS[3], ARGV[3])
for i = 5, #ARGV, 3 do
  if ARGV[i+1] == 'put' then
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i+2])
  else
    redis.call('HDEL', KEYS[1], ARGV[i])
  end
end
local new = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[4], new, 'EX', 3600)
redis.call('PUBLISH', ARGV[2], new)
return new
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

// Load implements catalog.Store. The revision, the last commit's id and every object are read
// in one MULTI/EXEC transaction: one consistent read that Redis answers from the hash itself,
// where a script would first copy the whole hash into a table.
func (s *catalogStore) Load(ctx context.Context) (catalog.Snapshot, error) {
	cctx, cancel := s.c.bound(ctx)
	defer cancel()
	keys := s.keys()
	var head *redis.SliceCmd
	var objects *redis.MapStringStringCmd
	if cmds, err := s.c.rdb.TxPipelined(cctx, func(p redis.Pipeliner) error {
		head = p.MGet(cctx, keys[1], keys[2])
		objects = p.HGetAll(cctx, keys[0])
		return nil
	}); err != nil {
		return catalog.Snapshot{}, s.fail(ctx, "load catalog", queuedCause(cmds, err))
	}
	at, err := parseHead(head.Val())
	if err != nil {
		return catalog.Snapshot{}, err
	}
	all := objects.Val()
	snap := catalog.Snapshot{Revision: at.Revision, Commit: at.Commit, Records: make([]catalog.Record, 0, len(all))}
	for field, value := range all {
		r, err := parseRecord(field, value)
		if err != nil {
			return catalog.Snapshot{}, err
		}
		snap.Records = append(snap.Records, r)
	}
	catalog.SortRecords(snap.Records)
	return snap, nil
}

// parseHead reads the revision and the last commit's id from an MGET of their keys; a missing
// revision is an empty store's 0.
func parseHead(vals []any) (catalog.Head, error) {
	if len(vals) != 2 {
		return catalog.Head{}, fmt.Errorf("redisstore: catalog revision: malformed reply")
	}
	var head catalog.Head
	if rev, ok := vals[0].(string); ok {
		n, err := strconv.ParseInt(rev, 10, 64)
		if err != nil {
			return catalog.Head{}, fmt.Errorf("redisstore: catalog revision %q is not a number", rev)
		}
		head.Revision = n
	}
	head.Commit, _ = vals[1].(string)
	return head, nil
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

// Head implements catalog.Store.
func (s *catalogStore) Head(ctx context.Context) (catalog.Head, error) {
	cctx, cancel := s.c.bound(ctx)
	defer cancel()
	keys := s.keys()
	vals, err := s.c.rdb.MGet(cctx, keys[1], keys[2]).Result()
	if err != nil {
		return catalog.Head{}, s.fail(ctx, "catalog revision", err)
	}
	return parseHead(vals)
}

// Commit implements catalog.Store.
func (s *catalogStore) Commit(ctx context.Context, at catalog.Head, changes []catalog.Change) (catalog.Head, error) {
	id, err := catalog.NewCommitID()
	if err != nil {
		return catalog.Head{}, err
	}
	args := make([]any, 0, 4+3*len(changes))
	args = append(args, at.Revision, s.channel(), id, at.Commit)
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
	keys := append(s.keys(), s.c.key("{catalog}:", "landed:"+id))
	n, err := commitCatalogScript.Run(cctx, s.c.rdb, keys, args...).Int64()
	if err != nil {
		return catalog.Head{}, s.fail(ctx, "commit catalog", err)
	}
	if n < 0 {
		return catalog.Head{}, catalog.ErrStale
	}
	return catalog.Head{Revision: n, Commit: id}, nil
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
