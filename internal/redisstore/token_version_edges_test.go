package redisstore_test

import (
	"context"
	"encoding/hex"
	"errors"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/runs"
	"github.com/brokerhq/broker/internal/testutil/redistest"
)

// TestTokenKeyOfMissingRun checks that a token whose key still names a run whose record is
// gone (evicted, or deleted by hand) is an unknown token: GetByToken answers runs.ErrNotFound,
// not a corrupted-record error, and the client's run cache stops offering the run read before.
// Guards against: getByTokenScript answering the token key's run id when the run key is missing
func TestTokenKeyOfMissingRun(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	prefix := uniquePrefix()
	store := open(t, srv, prefix, suiteTimeout).Runs()
	run, token := createRun(t, store, time.Hour)
	hash := runs.HashToken(token)
	if got, err := store.GetByToken(ctx, hash); err != nil || got.ID != run.ID {
		t.Fatalf("GetByToken while stored = %s, %v; want run %s", got.ID, err, run.ID)
	}
	if err := srv.Client().Del(ctx, prefix+"run:"+run.ID).Err(); err != nil {
		t.Fatalf("DEL run key: %v", err)
	}
	if got, err := store.GetByToken(ctx, hash); !errors.Is(err, runs.ErrNotFound) {
		t.Errorf("GetByToken of a token whose run is gone = %q, %v; want ErrNotFound", got.ID, err)
	}
	if got, _, ok := store.(runs.Cache).Cached(hash); ok {
		t.Errorf("Cached after the run was found gone = %s; want none", got.ID)
	}
}

// TestCheckedAppendByVersion checks an audit event appended against the Version that
// GetByTokenVersion gave: it lands, once, while the run is stored as read; it is refused with
// runs.ErrChanged, appending nothing, when the run's record is gone or its token key names
// another run while the other key is still in place. A missing record is a changed run, not
// a script error.
// Guards against: GetByTokenVersion's digest not the one of the record read (runs.go)
func TestCheckedAppendByVersion(t *testing.T) {
	for _, tc := range []struct {
		name string
		// change alters the stored run behind the reader's back; nil for none.
		change func(ctx context.Context, srv *redistest.Server, keys runKeysOf) error
	}{
		{"run unchanged", nil},
		{"run record gone, token key kept", func(ctx context.Context, srv *redistest.Server,
			keys runKeysOf) error {
			return srv.Client().Del(ctx, keys.run).Err()
		}},
		{"token key names another run", func(ctx context.Context, srv *redistest.Server,
			keys runKeysOf) error {
			return srv.Client().Set(ctx, keys.token, "01HZZZZZZZZZZZZZZZZZZZZZZZ", time.Hour).Err()
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			srv := redistest.Start(t)
			prefix := uniquePrefix()
			c := open(t, srv, prefix, suiteTimeout)
			store := c.Runs()
			run, token := createRun(t, store, time.Hour)
			hash := runs.HashToken(token)
			got, v, err := store.(runs.Versioned).GetByTokenVersion(ctx, hash)
			if err != nil || v.IsZero() {
				t.Fatalf("GetByTokenVersion: %v, %+v", err, v)
			}
			keys := runKeysOf{
				run:   prefix + "run:" + run.ID,
				token: prefix + "runtoken:" + hex.EncodeToString(hash[:]),
			}
			var want error
			var wantCount int64 = 1
			if tc.change != nil {
				if err := tc.change(ctx, srv, keys); err != nil {
					t.Fatalf("changing the stored run: %v", err)
				}
				want, wantCount = runs.ErrChanged, 0
			}
			trail := c.Audit()
			_, err = trail.(audit.CheckedStore).AppendChecked(ctx, tokenEvent("ev-1", got),
				[]string{run.Space}, v)
			if !errors.Is(err, want) {
				t.Errorf("AppendChecked: %v, want %v", err, want)
			}
			if h, err := trail.Head(ctx); err != nil || h.Count != wantCount {
				t.Errorf("Head after AppendChecked = %d, %v; want %d events", h.Count, err, wantCount)
			}
		})
	}
}

// runKeysOf names the Redis keys of one stored run.
type runKeysOf struct {
	run   string
	token string
}
