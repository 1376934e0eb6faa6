package catalog_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/config"
)

// recordingStartLog is a StartLog that keeps what it is given, checks that the store holds none
// of it yet when Before is called, and fails Before with failBefore.
type recordingStartLog struct {
	t          *testing.T
	store      catalog.Store
	failBefore error
	before     []catalog.StartChange
	// headAtBefore is the store's revision when Before was called.
	headAtBefore []int64
	notCommitted []error
}

func (l *recordingStartLog) Before(ctx context.Context, ch catalog.StartChange) error {
	head, err := l.store.Head(ctx)
	if err != nil {
		l.t.Fatal(err)
	}
	l.before = append(l.before, ch)
	l.headAtBefore = append(l.headAtBefore, head.Revision)
	return l.failBefore
}

func (l *recordingStartLog) NotCommitted(_ context.Context, err error) {
	l.notCommitted = append(l.notCommitted, err)
}

// staleOnceStore is a Store whose first Commit fails with ErrStale after letting another
// commit (the other replica's) in.
type staleOnceStore struct {
	catalog.Store
	other func()
	done  bool
}

func (s *staleOnceStore) Commit(ctx context.Context, head catalog.Head, changes []catalog.Change) (catalog.Head, error) {
	if !s.done {
		s.done = true
		s.other()
		return catalog.Head{}, catalog.ErrStale
	}
	return s.Store.Commit(ctx, head, changes)
}

// TestStartLogRecordsBeforeCommit: contract §8, every change is an audit event. A replica
// starting on a file that changed while no replica ran records what left the file and what
// changed before the store holds it; when that record fails, the start fails and the store
// holds nothing of it; a start on an unchanged file records nothing.
func TestStartLogRecordsBeforeCommit(t *testing.T) {
	ctx := context.Background()
	store := catalog.NewMemory()
	if _, err := catalog.NewManager(ctx, catalog.ManagerConfig{Store: store, File: file()}); err != nil {
		t.Fatal(err)
	}
	unchanged := &recordingStartLog{t: t, store: store}
	if _, err := catalog.NewManager(ctx, catalog.ManagerConfig{Store: store, File: file(), StartLog: unchanged}); err != nil {
		t.Fatal(err)
	}
	if len(unchanged.before) != 0 {
		t.Errorf("a start on the unchanged file recorded %+v", unchanged.before)
	}

	edited := file()
	edited.Stacks = slices.Clone(edited.Stacks)
	edited.Stacks[0].Labels = []string{"l"}
	edited.Roles = slices.Clone(edited.Roles)
	edited.Roles[0].Actions = append(slices.Clone(edited.Roles[0].Actions), config.ActionRunRead)
	edited.APIKeys = []config.APIKey{{ID: "added", SecretSHA256: hashHex("added-secret"), Bindings: []config.Binding{{Role: "admin", Space: "root"}}}}

	down := errors.New("trail down")
	failing := &recordingStartLog{t: t, store: store, failBefore: down}
	before, _ := store.Head(ctx)
	if _, err := catalog.NewManager(ctx, catalog.ManagerConfig{Store: store, File: edited, StartLog: failing}); !errors.Is(err, down) {
		t.Fatalf("start with the record failing: %v, want %v", err, down)
	}
	if after, _ := store.Head(ctx); after.Revision != before.Revision {
		t.Errorf("the start whose record failed committed: revision %d, was %d", after.Revision, before.Revision)
	}

	log := &recordingStartLog{t: t, store: store}
	if _, err := catalog.NewManager(ctx, catalog.ManagerConfig{Store: store, File: edited, StartLog: log}); err != nil {
		t.Fatal(err)
	}
	if len(log.before) != 1 {
		t.Fatalf("the start recorded %d times, want once: %+v", len(log.before), log.before)
	}
	if log.headAtBefore[0] != before.Revision {
		t.Errorf("recorded at revision %d, want %d: the store held the changes before their record", log.headAtBefore[0], before.Revision)
	}
	ch := log.before[0]
	if !slices.Equal(ch.Left, []string{"api_key ops"}) {
		t.Errorf("left = %q, want the API key removed from the file", ch.Left)
	}
	if !slices.Contains(ch.Changed, "stack vpc") || !slices.Contains(ch.Changed, "role "+file().Roles[0].ID) {
		t.Errorf("changed = %q, want the edited stack and role", ch.Changed)
	}
	if !slices.Equal(ch.Added, []string{"api_key added"}) {
		t.Errorf("added = %q, want the API key that entered the file", ch.Added)
	}
	if ch.Catalog == nil {
		t.Error("no catalog to file the record by")
	}
	if len(log.notCommitted) != 0 {
		t.Errorf("not committed: %v", log.notCommitted)
	}
}

// TestStartLogNotCommitted: when another replica commits first, the start says its record was
// not applied, then records again what is still to change, here nothing: the other replica
// recorded the same file.
func TestStartLogNotCommitted(t *testing.T) {
	ctx := context.Background()
	mem := catalog.NewMemory()
	if _, err := catalog.NewManager(ctx, catalog.ManagerConfig{Store: mem, File: file()}); err != nil {
		t.Fatal(err)
	}
	edited := file()
	edited.Stacks = slices.Clone(edited.Stacks)
	edited.Stacks[0].Labels = []string{"l"}
	store := &staleOnceStore{Store: mem, other: func() {
		if _, err := catalog.NewManager(ctx, catalog.ManagerConfig{Store: mem, File: edited}); err != nil {
			t.Fatal(err)
		}
	}}
	log := &recordingStartLog{t: t, store: mem}
	if _, err := catalog.NewManager(ctx, catalog.ManagerConfig{Store: store, File: edited, StartLog: log}); err != nil {
		t.Fatal(err)
	}
	if len(log.before) != 1 || len(log.notCommitted) != 1 || !errors.Is(log.notCommitted[0], catalog.ErrStale) {
		t.Errorf("recorded %d, not committed %v; want one record and one ErrStale", len(log.before), log.notCommitted)
	}
}

// TestStartLogNamesRemovedObjects: a start on a file from which an attachment, an integration
// and a role were removed while no replica ran records them as removed before the store holds
// the new file's record, also when that is the file's only change.
func TestStartLogNamesRemovedObjects(t *testing.T) {
	ctx := context.Background()
	store := catalog.NewMemory()
	start := file()
	start.Roles = append(slices.Clone(start.Roles), config.Role{ID: "reader", Actions: []string{config.ActionRunRead}})
	if _, err := catalog.NewManager(ctx, catalog.ManagerConfig{Store: store, File: start}); err != nil {
		t.Fatal(err)
	}
	edited := file()
	edited.Attachments, edited.Integrations = nil, nil
	before, _ := store.Head(ctx)
	log := &recordingStartLog{t: t, store: store}
	if _, err := catalog.NewManager(ctx, catalog.ManagerConfig{Store: store, File: edited, StartLog: log}); err != nil {
		t.Fatal(err)
	}
	if len(log.before) != 1 {
		t.Fatalf("the start recorded %d times, want once", len(log.before))
	}
	if log.headAtBefore[0] != before.Revision {
		t.Errorf("recorded at revision %d, want %d: the store held the change before its record", log.headAtBefore[0], before.Revision)
	}
	want := []string{"attachment vpc/aws-root", "integration aws-root", "role reader"}
	if got := log.before[0].Removed; !slices.Equal(got, want) {
		t.Errorf("removed = %q, want %q", got, want)
	}
	if ch := log.before[0]; len(ch.Left)+len(ch.Changed)+len(ch.Added) != 0 {
		t.Errorf("left %q, changed %q, added %q: want only removals", ch.Left, ch.Changed, ch.Added)
	}
}
