package audit_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/runs"
)

// checkingStore is a Store that can check a run: it appends while the run's version is current
// and refuses with runs.ErrChanged otherwise, remembering the versions it was asked about.
type checkingStore struct {
	audit.Store
	current string
	asked   []runs.Version
}

func (s *checkingStore) AppendChecked(ctx context.Context, e audit.Event, spaces []string, v runs.Version) (audit.Event, error) {
	s.asked = append(s.asked, v)
	if v.Digest != s.current {
		return audit.Event{}, runs.ErrChanged
	}
	return s.Store.Append(ctx, e, spaces)
}

// TestCheckpointerAppendChecked: a Checkpointer passes a checked append to a store that can
// check runs, and refuses it with runs.ErrChanged, appending nothing, over one that cannot.
func TestCheckpointerAppendChecked(t *testing.T) {
	ctx := context.Background()
	v := runs.Version{ID: "r1", Digest: "d1"}
	for _, tc := range []struct {
		name      string
		store     func() (audit.Store, *checkingStore)
		wantErr   error
		wantCount int64
	}{
		{"store checks, run current", func() (audit.Store, *checkingStore) {
			s := &checkingStore{Store: audit.NewMemory(), current: "d1"}
			return s, s
		}, nil, 1},
		{"store checks, run changed", func() (audit.Store, *checkingStore) {
			s := &checkingStore{Store: audit.NewMemory(), current: "d2"}
			return s, s
		}, runs.ErrChanged, 0},
		{"store cannot check", func() (audit.Store, *checkingStore) { return audit.NewMemory(), nil }, runs.ErrChanged, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store, checking := tc.store()
			cp, err := audit.NewCheckpointer(audit.CheckpointConfig{
				Store: store, Sign: (&fakeSign{}).sign, Issuer: "https://broker.test", Space: "root",
				Every: 1000, Interval: time.Hour,
			})
			if err != nil {
				t.Fatal(err)
			}
			e := audit.Event{ID: "e1", Time: time.Now().UTC().Format(time.RFC3339Nano), Actor: "run:r1",
				Action: "token.issue", Space: "root", Run: "r1", Outcome: audit.Success}
			if _, err := cp.AppendChecked(ctx, e, []string{"root"}, v); !errors.Is(err, tc.wantErr) {
				t.Fatalf("AppendChecked: %v, want %v", err, tc.wantErr)
			}
			if checking != nil && (len(checking.asked) != 1 || checking.asked[0] != v) {
				t.Errorf("the store was asked about %+v, want %+v once", checking.asked, v)
			}
			if h, err := cp.Head(ctx); err != nil || h.Count != tc.wantCount {
				t.Errorf("chain length %d (%v), want %d", h.Count, err, tc.wantCount)
			}
		})
	}
}
