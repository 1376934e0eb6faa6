package redisstore

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/brokerhq/broker/internal/runs"
)

// Update retries.
const (
	// maxUpdateAttempts bounds how often Update retries a compare-and-swap that lost a race.
	maxUpdateAttempts = 50
	// maxUpdateBackoff bounds the jittered pause between two attempts.
	maxUpdateBackoff = 10 * time.Millisecond
)

// createScript stores a run and its token key unless the id or the token is taken. A run key
// holding exactly this run is this very call sent again (its reply was lost): stored.
// KEYS: run key, token key. ARGV: run JSON, run id, expiry (Unix ms), "1" if the run is
// finished (its token is then not stored). Returns 0 when stored, 1 when the id is taken, 2
// when the token is.
var createScript = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if cur == ARGV[1] and (ARGV[4] == '1' or redis.call('GET', KEYS[2]) == ARGV[2]) then return 0 end
if cur then return 1 end
if redis.call('EXISTS', KEYS[2]) == 1 then return 2 end
redis.call('SET', KEYS[1], ARGV[1], 'PXAT', ARGV[3])
if ARGV[4] ~= '1' then
  redis.call('SET', KEYS[2], ARGV[2], 'PXAT', ARGV[3])
end
return 0
`)

// getByTokenScript returns the JSON of the run a token key names, or nil.
// KEYS: token key. ARGV: the run key prefix ("<prefix>run:").
var getByTokenScript = redis.NewScript(`
local id = redis.call('GET', KEYS[1])
if not id then return false end
return redis.call('GET', ARGV[1] .. id)
`)

// errNoRun is returned inside Update's transaction when the run is absent or expired.
var errNoRun = errors.New("no such run")

// runRecord is the stored form of a run: the run and the hex SHA-256 of its token.
type runRecord struct {
	runs.Run
	TokenHash string `json:"tokenHash"`
}

// runStore is the runs.Store view of a Client.
type runStore struct {
	c *Client
}

var (
	_ runs.Store = (*runStore)(nil)
	_ runs.Cache = (*runStore)(nil)
)

// Runs returns the client's runs.Store. A run lives at <prefix>run:<id> and its token hash at
// <prefix>runtoken:<sha256 hex>, both expiring at the run's ExpiresAt, so every replica sees
// the same runs and Redis drops them when they expire. Update's fn may be called more than
// once (each time a concurrent update wins the race), so it must not have side effects.
func (c *Client) Runs() runs.Store { return &runStore{c: c} }

// runKey and tokenKey share the hash tag of the "runs" group on a Redis Cluster: Create,
// GetByToken and Update use a run and its token key together.
func (s *runStore) runKey(id string) string { return s.c.key(s.c.group("runs")+"run:", id) }

func (s *runStore) tokenKey(hash string) string { return s.c.key(s.c.group("runs")+"runtoken:", hash) }

// fail describes a failure of op, adding runs.ErrUnavailable to an unavailable Redis.
func (s *runStore) fail(ctx context.Context, op string, err error) error {
	err = s.c.fail(ctx, op, err)
	if errors.Is(err, ErrUnavailable) {
		return fmt.Errorf("%w: %w", runs.ErrUnavailable, err)
	}
	return err
}

// Create implements runs.Store.
func (s *runStore) Create(ctx context.Context, run runs.Run, token runs.TokenHash) error {
	hash := hex.EncodeToString(token[:])
	data, err := json.Marshal(runRecord{Run: run, TokenHash: hash})
	if err != nil {
		return fmt.Errorf("redisstore: encode run %s: %w", run.ID, err)
	}
	finished := "0"
	if run.Phase == runs.Finished {
		finished = "1"
	}
	cctx, cancel := s.c.bound(ctx)
	defer cancel()
	res, err := createScript.Run(cctx, s.c.rdb, []string{s.runKey(run.ID), s.tokenKey(hash)},
		data, run.ID, expiryMillis(run.ExpiresAt), finished).Int()
	if err != nil {
		return s.fail(ctx, "create run "+run.ID, err)
	}
	switch res {
	case 0:
		return nil
	case 1:
		return fmt.Errorf("%w: id %s is taken", runs.ErrExists, run.ID)
	default:
		return fmt.Errorf("%w: token already belongs to another run", runs.ErrExists)
	}
}

// Get implements runs.Store.
func (s *runStore) Get(ctx context.Context, id string) (runs.Run, error) {
	cctx, cancel := s.c.bound(ctx)
	defer cancel()
	data, err := s.c.rdb.Get(cctx, s.runKey(id)).Bytes()
	if errors.Is(err, redis.Nil) {
		return runs.Run{}, fmt.Errorf("%w: %s", runs.ErrNotFound, id)
	}
	if err != nil {
		return runs.Run{}, s.fail(ctx, "get run "+id, err)
	}
	rec, err := decodeRun(id, data)
	if err != nil {
		return runs.Run{}, err
	}
	if expired(rec.Run) {
		return runs.Run{}, fmt.Errorf("%w: %s", runs.ErrNotFound, id)
	}
	return rec.Run, nil
}

// GetByToken implements runs.Store, in one round trip, which it shares with the lookups and
// audit appends of concurrent requests (see roundTrips).
func (s *runStore) GetByToken(ctx context.Context, token runs.TokenHash) (runs.Run, error) {
	run, _, err := s.getByToken(ctx, token)
	return run, err
}

// GetByTokenVersion implements runs.Versioned; on a Cluster, whose audit appends cannot check a
// run (see auditStore.AppendChecked), the Version is zero.
func (s *runStore) GetByTokenVersion(ctx context.Context, token runs.TokenHash) (runs.Run, runs.Version, error) {
	run, data, err := s.getByToken(ctx, token)
	if err != nil || s.c.cluster {
		return run, runs.Version{}, err
	}
	return run, runs.Version{ID: run.ID, Token: token, Digest: recordDigest(data)}, nil
}

// getByToken is GetByToken that also returns the stored record as read.
func (s *runStore) getByToken(ctx context.Context, token runs.TokenHash) (runs.Run, string, error) {
	hash := hex.EncodeToString(token[:])
	notFound := fmt.Errorf("%w: unknown run token", runs.ErrNotFound)
	l := &lookup{call: scriptCall{
		script: getByTokenScript,
		keys:   []string{s.tokenKey(hash)},
		args:   []any{s.runKey("")},
	}, done: make(chan struct{})}
	s.c.rt.do(l)
	select {
	case <-l.done:
	case <-ctx.Done():
		// The lookup goes on in its round trip; nothing waits for it any more.
		return runs.Run{}, "", s.fail(ctx, "get run by token", ctx.Err())
	}
	data, err := l.cmd.Text()
	if errors.Is(err, redis.Nil) {
		if s.c.runs != nil {
			s.c.runs.drop(token)
		}
		return runs.Run{}, "", notFound
	}
	if err != nil {
		return runs.Run{}, "", s.fail(ctx, "get run by token", err)
	}
	rec, err := decodeRun("", []byte(data))
	if err != nil {
		return runs.Run{}, "", err
	}
	// The token key is deleted when the run finishes and expires with it; the checks below
	// only guard against clock skew and a token key left by hand.
	if rec.TokenHash != hash || rec.Phase == runs.Finished || expired(rec.Run) {
		if s.c.runs != nil {
			s.c.runs.drop(token)
		}
		return runs.Run{}, "", notFound
	}
	if s.c.runs != nil {
		s.c.runs.put(token, rec.Run, data)
	}
	return rec.Run, data, nil
}

// Cached implements runs.Cache with the runs GetByToken read on this Client; never on a
// Cluster.
func (s *runStore) Cached(token runs.TokenHash) (runs.Run, runs.Version, bool) {
	if s.c.runs == nil {
		return runs.Run{}, runs.Version{}, false
	}
	return s.c.runs.get(token)
}

// lookup is a run lookup by token as a part of a shared round trip. done is closed once cmd
// holds the final reply; only then does the caller read cmd.
type lookup struct {
	call scriptCall
	cmd  *redis.Cmd
	done chan struct{}
}

func (l *lookup) add(ctx context.Context, p redis.Pipeliner) { l.cmd = l.call.queue(ctx, p) }

func (l *lookup) settle() bool {
	if noScript(l.cmd.Err()) && !l.call.bySource {
		l.call.bySource = true
		return true
	}
	close(l.done)
	return false
}

// Update implements runs.Store as an optimistic transaction (WATCH the run, read it, apply fn,
// MULTI/SET/EXEC), retried when another update changed the run in between.
func (s *runStore) Update(ctx context.Context, id string, fn func(runs.Run) (runs.Run, error)) (runs.Run, error) {
	cctx, cancel := s.c.bound(ctx)
	defer cancel()
	key := s.runKey(id)
	for attempt := 1; ; attempt++ {
		var next runs.Run
		err := s.c.rdb.Watch(cctx, func(tx *redis.Tx) error {
			var err error
			next, err = s.updateOnce(cctx, tx, id, fn)
			return err
		}, key)
		var fnErr *callerError
		switch {
		case err == nil:
			return next, nil
		case errors.As(err, &fnErr):
			return runs.Run{}, fnErr.err
		case errors.Is(err, errNoRun):
			return runs.Run{}, fmt.Errorf("%w: %s", runs.ErrNotFound, id)
		case !errors.Is(err, redis.TxFailedErr):
			return runs.Run{}, s.fail(ctx, "update run "+id, err)
		case attempt == maxUpdateAttempts:
			return runs.Run{}, fmt.Errorf("%w: %w: update run %s: still contended after %d attempts",
				runs.ErrUnavailable, ErrUnavailable, id, attempt)
		}
		pause := time.Millisecond + rand.N(maxUpdateBackoff)
		select {
		case <-cctx.Done():
			return runs.Run{}, s.fail(ctx, "update run "+id, cctx.Err())
		case <-time.After(pause):
		}
	}
}

// callerError carries the error of Update's fn through the transaction, to be returned as is.
type callerError struct{ err error }

func (e *callerError) Error() string { return e.err.Error() }

// updateOnce reads run id on tx (which watches it), applies fn and queues the write in a
// MULTI/EXEC that fails with redis.TxFailedErr if the run changed since the read. fn's error
// comes back as a *callerError.
func (s *runStore) updateOnce(ctx context.Context, tx *redis.Tx, id string,
	fn func(runs.Run) (runs.Run, error)) (runs.Run, error) {
	key := s.runKey(id)
	data, err := tx.Get(ctx, key).Bytes()
	if errors.Is(err, redis.Nil) {
		return runs.Run{}, errNoRun
	}
	if err != nil {
		return runs.Run{}, err
	}
	cur, err := decodeRun(id, data)
	if err != nil {
		return runs.Run{}, err
	}
	if expired(cur.Run) {
		return runs.Run{}, errNoRun
	}
	next, err := fn(cur.Run) // Run holds only values, so fn gets a copy.
	if err != nil {
		return runs.Run{}, &callerError{err: err}
	}
	next.ID = cur.ID
	out, err := json.Marshal(runRecord{Run: next, TokenHash: cur.TokenHash})
	if err != nil {
		return runs.Run{}, fmt.Errorf("encode run %s: %w", id, err)
	}
	tokenKey := s.tokenKey(cur.TokenHash)
	cmds, err := tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
		// XX: a run that expired since the read is not brought back (without a TTL).
		if next.ExpiresAt.Equal(cur.ExpiresAt) {
			p.SetArgs(ctx, key, out, redis.SetArgs{Mode: "XX", KeepTTL: true})
		} else {
			// fn moved the expiry: both keys follow it.
			at := expiryMillis(next.ExpiresAt)
			p.Do(ctx, "SET", key, out, "XX", "PXAT", at)
			p.Do(ctx, "PEXPIREAT", tokenKey, at)
		}
		if next.Phase == runs.Finished {
			p.Del(ctx, tokenKey) // revoke the token in the same EXEC
		}
		return nil
	})
	if errors.Is(err, redis.Nil) { // SET XX found no run
		return runs.Run{}, errNoRun
	}
	if err != nil {
		return runs.Run{}, queuedCause(cmds, err)
	}
	return next, nil
}

// Ping implements runs.Store.
func (s *runStore) Ping(ctx context.Context) error {
	if err := s.c.Ping(ctx); err != nil {
		if errors.Is(err, ErrUnavailable) {
			return fmt.Errorf("%w: %w", runs.ErrUnavailable, err)
		}
		return err
	}
	return nil
}

// decodeRun parses a stored run. id names it in errors when known; the error never quotes the
// record, which holds the token hash.
func decodeRun(id string, data []byte) (runRecord, error) {
	var rec runRecord
	if err := json.Unmarshal(data, &rec); err != nil || rec.ID == "" || (id != "" && rec.ID != id) {
		if id == "" {
			return runRecord{}, errors.New("redisstore: a stored run is corrupted")
		}
		return runRecord{}, fmt.Errorf("redisstore: stored run %s is corrupted", id)
	}
	return rec, nil
}

// expired reports whether run is past its expiry on the local clock, which guards against
// serving a run in the instant Redis has not dropped it yet (or its clock lags).
func expired(run runs.Run) bool { return !time.Now().Before(run.ExpiresAt) }

// expiryMillis is t as a PXAT/PEXPIREAT argument: Unix milliseconds, at least 1 (a time at or
// before the epoch expires the key at once rather than being rejected by Redis).
func expiryMillis(t time.Time) int64 { return max(t.UnixMilli(), 1) }
