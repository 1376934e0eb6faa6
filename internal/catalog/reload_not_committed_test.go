package catalog_test

import (
	"context"
	"errors"
	"testing"

	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/config"
)

// failingCommit is a Store whose next Commit, once fail is set, fails with fail and commits
// nothing; the Commits after it go through.
type failingCommit struct {
	catalog.Store
	fail error
}

func (f *failingCommit) Commit(ctx context.Context, at catalog.Head, changes []catalog.Change) (catalog.Head, error) {
	if err := f.fail; err != nil {
		f.fail = nil
		return catalog.Head{}, err
	}
	return f.Store.Commit(ctx, at, changes)
}

// reloadRecorder is a ReloadLog noting its calls.
type reloadRecorder struct {
	before       int
	notCommitted []error
}

func (r *reloadRecorder) Before(context.Context, *catalog.Catalog) error {
	r.before++
	return nil
}

func (r *reloadRecorder) NotCommitted(_ context.Context, err error) {
	r.notCommitted = append(r.notCommitted, err)
}

// TestReloadNotCommittedIsRecorded: a reload whose commit fails after Before recorded it has
// NotCommitted recorded with the commit's error: a store failure ends the reload with that
// error, the catalog in force staying; ErrStale has the reload checked, recorded and committed
// again.
func TestReloadNotCommittedIsRecorded(t *testing.T) {
	broken := errors.New("store broke")
	cases := []struct {
		name       string
		fail       error
		wantErr    error // nil: the reload is in force
		wantBefore int
	}{
		{"store failure", broken, broken, 1},
		{"stale", catalog.ErrStale, nil, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			store := &failingCommit{Store: catalog.NewMemory()}
			m := newManager(t, store) // its start records the file: not failed
			store.fail = tc.fail
			reloaded := file()
			reloaded.Stacks = append(reloaded.Stacks, config.Stack{ID: "from-file", Space: "prod"})
			log := &reloadRecorder{}
			_, err := m.ReloadLogged(ctx, reloaded, log)
			if tc.wantErr == nil && err != nil || tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Fatalf("ReloadLogged = %v, want %v", err, tc.wantErr)
			}
			if len(log.notCommitted) != 1 || !errors.Is(log.notCommitted[0], tc.fail) {
				t.Errorf("NotCommitted called with %v, want once with %v", log.notCommitted, tc.fail)
			}
			if log.before != tc.wantBefore {
				t.Errorf("Before called %d times, want %d", log.before, tc.wantBefore)
			}
			_, inForce := m.Live().Load().Stack("from-file")
			if inForce != (tc.wantErr == nil) {
				t.Errorf("the reloaded file's stack in force: %v, want %v", inForce, tc.wantErr == nil)
			}
		})
	}
}
