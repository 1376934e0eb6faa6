package redisstore_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/redisstore"
	"github.com/brokerhq/broker/internal/testutil/redistest"
	"github.com/brokerhq/broker/keys"
	"github.com/redis/go-redis/v9"
)

// TestStoredEventNotJSON: an event stored in the trail that is not JSON (changed in the
// store) makes List, Range and Head fail with an error rather than hand out a blank event.
// Guards against: audit.go:List ignore the event's JSON error
// Guards against: audit.go:Head ignore the checkpoint's JSON error
// Guards against: audit_sinks.go:Range ignore the event's JSON error
func TestStoredEventNotJSON(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	prefix := uniquePrefix()
	c := open(t, srv, prefix, suiteTimeout)
	rdb := srv.Client()
	if err := rdb.RPush(ctx, prefix+"audit:events", "not json").Err(); err != nil {
		t.Fatal(err)
	}
	for _, space := range []string{"root", audit.CheckpointIndex} {
		if err := rdb.RPush(ctx, prefix+"audit:space:"+space, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	store := c.Audit()
	for _, tc := range []struct {
		name string
		call func() error
	}{
		{"List", func() error { _, _, err := store.List(ctx, "root", "", 10); return err }},
		{"Range", func() error { _, _, err := store.(audit.Reader).Range(ctx, 0, 10); return err }},
		{"Head", func() error { _, err := store.Head(ctx); return err }},
	} {
		if err := tc.call(); err == nil {
			t.Errorf("%s of a trail holding an event that is not JSON: no error", tc.name)
		}
	}
}

// TestRangeZeroLimitFromStart: Range with a limit of 0 reads nothing, also from position 0.
// Guards against: audit_sinks.go:Range "limit <= 0" -> "limit < 0"
func TestRangeZeroLimitFromStart(t *testing.T) {
	ctx := context.Background()
	store := open(t, redistest.Start(t), uniquePrefix(), suiteTimeout).Audit()
	appendEvents(t, store, 3)
	if got, from, err := store.(audit.Reader).Range(ctx, 0, 0); err != nil || len(got) != 0 || from != 0 {
		t.Errorf("Range(0, 0) = %d events from %d, %v; want none from 0", len(got), from, err)
	}
}

// TestClaimShortTTL: a lease claimed for less than a millisecond is taken (for a
// millisecond), not refused by Redis as an invalid expiry.
// Guards against: audit_sinks.go:Claim drop max(ttl.Milliseconds(), 1)
func TestClaimShortTTL(t *testing.T) {
	store := open(t, redistest.Start(t), uniquePrefix(), suiteTimeout).Audit()
	if ok, err := store.(audit.Cursors).Claim(context.Background(), "sink", "a", 500*time.Microsecond); err != nil || !ok {
		t.Errorf("Claim for 500µs = %v, %v; want taken", ok, err)
	}
}

// checkpointHook is a go-redis hook that, the first time a command carries the marker,
// appends an event through another replica first: the tail moves between the checkpoint's Head
// and its script.
type checkpointHook struct {
	marker string
	other  audit.Store
	once   sync.Once
	err    error
}

func (h *checkpointHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *checkpointHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		for _, a := range cmd.Args() {
			s, _ := a.(string)
			if b, ok := a.([]byte); ok {
				s = string(b)
			}
			if strings.Contains(s, h.marker) {
				h.once.Do(func() {
					_, h.err = h.other.Append(ctx, audit.Event{ID: "meanwhile", Action: "test"}, []string{"root"})
				})
			}
		}
		return next(ctx, cmd)
	}
}

func (h *checkpointHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// TestCheckpointChainsOntoMovedTail: a checkpoint whose tail moved (another replica
// appended) between reading the head and appending chains onto the new tail and lands.
// Guards against: audit.go:AppendCheckpoint one try only
// Guards against: audit.go:AppendCheckpoint drop "tail, _ = res[1].(string)"
func TestCheckpointChainsOntoMovedTail(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	prefix := uniquePrefix()
	c, other := open(t, srv, prefix, suiteTimeout), open(t, srv, prefix, suiteTimeout)
	store := c.Audit()
	appendEvents(t, store, 2)
	hook := &checkpointHook{marker: "moved-tail-cp", other: other.Audit()}
	c.Redis().AddHook(hook)
	cp := audit.Event{ID: "moved-tail-cp", Action: audit.CheckpointAction, Actor: audit.CheckpointActor, Space: "root", Detail: "x.y.z"}
	got, ok, err := store.AppendCheckpoint(ctx, cp, []string{"root"}, -1)
	if hook.err != nil {
		t.Fatal(hook.err)
	}
	h, herr := store.Head(ctx)
	if err != nil || !ok || herr != nil || h.Count != 4 || h.Checkpoint == nil || h.CheckpointAt != 3 || h.Checkpoint.Prev != got.Prev {
		t.Fatalf("AppendCheckpoint = %v, %v; head %+v, %v; want the checkpoint at 3 after the other replica's event", ok, err, h, herr)
	}
	events, _, err := store.List(ctx, "root", "", 10)
	if err != nil || len(events) != 2 || events[0].ID != "meanwhile" {
		t.Fatalf("root = %+v, %v; want the other replica's event and the checkpoint", events, err)
	}
	if err := audit.Verify(events); err != nil {
		t.Errorf("chain: %v", err)
	}
}

// TestAuditFeedAndKeySetUnavailable: with Redis out of reach, the sinks' reads and cursors
// and the audited key set fail with an error wrapping redisstore.ErrUnavailable (and, for the
// trail, audit.ErrUnavailable), not with a default answer.
// Guards against: audit_sinks.go:Cursor answer 0, nil on an error
// Guards against: audit_keyset.go:LoadKeySet return the raw error
// Guards against: audit_keyset.go:SaveKeySet return the raw error
func TestAuditFeedAndKeySetUnavailable(t *testing.T) {
	srv := redistest.Start(t)
	c := open(t, srv, uniquePrefix(), outageTimeout)
	trail, keySet := c.Audit(), c.AuditKeySet()
	srv.Stop()
	checkUnavailable(t, []outageCall{
		{"Audit.Range", audit.ErrUnavailable, func(ctx context.Context) error {
			_, _, err := trail.(audit.Reader).Range(ctx, 0, 10)
			return err
		}},
		{"Audit.Cursor", audit.ErrUnavailable, func(ctx context.Context) error {
			_, err := trail.(audit.Cursors).Cursor(ctx, "sink")
			return err
		}},
		{"Audit.Claim", audit.ErrUnavailable, func(ctx context.Context) error {
			_, err := trail.(audit.Cursors).Claim(ctx, "sink", "a", time.Second)
			return err
		}},
		{"Audit.Advance", audit.ErrUnavailable, func(ctx context.Context) error {
			_, err := trail.(audit.Cursors).Advance(ctx, "sink", "a", audit.SinkCursor{Pos: 1})
			return err
		}},
		{"AuditKeySet.Load", redisstore.ErrUnavailable, func(ctx context.Context) error {
			_, _, err := keySet.LoadKeySet(ctx)
			return err
		}},
		{"AuditKeySet.Save", redisstore.ErrUnavailable, func(ctx context.Context) error {
			return keySet.SaveKeySet(ctx, keys.SetMeta{Generation: 1})
		}},
	}, nil)
}

// TestAuditKeySetRecord: the audited key set is kept as a record of format 1 that never
// expires; a record of format 1 that a later format's reader wrote must still load, and one
// whose fields do not decode is corrupted, not a partial set.
// Guards against: audit_keyset.go:auditKeySetFormat 1 -> 2
// Guards against: audit_keyset.go:SaveKeySet with a TTL
// Guards against: audit_keyset.go:LoadKeySet ignore the JSON error
func TestAuditKeySetRecord(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	prefix := uniquePrefix()
	c := open(t, srv, prefix, suiteTimeout)
	rdb, key := srv.Client(), prefix+"audit:keyset"
	if err := c.AuditKeySet().SaveKeySet(ctx, keys.SetMeta{Generation: 3}); err != nil {
		t.Fatal(err)
	}
	if d, err := rdb.TTL(ctx, key).Result(); err != nil || d != -1 {
		t.Errorf("TTL of the key set record = %v, %v; want none", d, err)
	}
	for _, tc := range []struct {
		name, record string
		gen          int64
		corrupted    bool
	}{
		{"format 1", `{"format":1,"generation":5,"keys":[]}`, 5, false},
		{"a field that does not decode", `{"format":1,"generation":"five"}`, 0, true},
	} {
		if err := rdb.Set(ctx, key, tc.record, 0).Err(); err != nil {
			t.Fatal(err)
		}
		set, found, err := c.AuditKeySet().LoadKeySet(ctx)
		switch {
		case tc.corrupted && !errors.Is(err, redisstore.ErrAuditKeySetCorrupted):
			t.Errorf("%s: LoadKeySet = %+v, %v, %v; want ErrAuditKeySetCorrupted", tc.name, set, found, err)
		case !tc.corrupted && (err != nil || !found || set.Generation != tc.gen):
			t.Errorf("%s: LoadKeySet = %+v, %v, %v; want generation %d", tc.name, set, found, err, tc.gen)
		}
	}
}

// TestEmptyListingIsEmptySlice: a listing that finds no events is an empty slice, not nil,
// so that it encodes as an empty JSON array rather than null.
// Guards against: audit.go:List drop "if out == nil { out = []audit.Event{} }"
func TestEmptyListingIsEmptySlice(t *testing.T) {
	store := open(t, redistest.Start(t), uniquePrefix(), suiteTimeout).Audit()
	appendEvents(t, store, 2)
	for _, tc := range []struct{ space, cursor string }{{"nowhere", ""}, {"a", "5"}} {
		if got, next, err := store.List(context.Background(), tc.space, tc.cursor, 10); err != nil || got == nil || len(got) != 0 || next != "" {
			t.Errorf("List of space %s from %q = %#v, %q, %v; want a non-nil empty slice and no next cursor", tc.space, tc.cursor, got, next, err)
		}
	}
}
