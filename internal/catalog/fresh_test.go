package catalog_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/catalog"
)

// downStore is a Store whose Head, while down is set, waits for release and fails; heads counts
// its calls.
type downStore struct {
	catalog.Store
	down    atomic.Bool
	release chan struct{}
	heads   atomic.Int32
}

func (s *downStore) Head(ctx context.Context) (catalog.Head, error) {
	s.heads.Add(1)
	if s.down.Load() {
		<-s.release
		return catalog.Head{}, catalog.ErrUnavailable
	}
	return s.Store.Head(ctx)
}

// TestCurrent: a catalog read within MaxStale is current without a read; past it, Current reads
// the store, once for every caller waiting meanwhile, and answers ErrUnavailable while the
// store is down, and nil again once it is back.
func TestCurrent(t *testing.T) {
	ctx := context.Background()
	store := &downStore{Store: catalog.NewMemory(), release: make(chan struct{})}
	m, err := catalog.NewManager(ctx, catalog.ManagerConfig{Store: store, File: file()})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Current(ctx); err != nil || store.heads.Load() != 0 {
		t.Fatalf("just read: Current = %v after %d reads, want nil after none", err, store.heads.Load())
	}
	time.Sleep(catalog.MaxStale + 50*time.Millisecond)
	store.down.Store(true)
	var wg sync.WaitGroup
	errs := make(chan error, 10)
	for range 10 {
		wg.Add(1)
		go func() { defer wg.Done(); errs <- m.Current(ctx) }()
	}
	time.Sleep(50 * time.Millisecond) // every caller waits on the one read
	close(store.release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if !errors.Is(err, catalog.ErrUnavailable) {
			t.Errorf("store down: Current = %v, want ErrUnavailable", err)
		}
	}
	if n := store.heads.Load(); n != 1 {
		t.Errorf("10 callers made %d reads, want 1", n)
	}
	store.down.Store(false)
	if err := m.Current(ctx); err != nil {
		t.Errorf("store back: Current = %v, want nil", err)
	}
	if err := m.Current(ctx); err != nil || store.heads.Load() != 2 {
		t.Errorf("read again just now: Current = %v after %d reads, want nil after 2", err, store.heads.Load())
	}
}

// slowStore is a Store whose Head answers delay late, as a reply that left the store before a
// change elsewhere and spent its time on the way.
type slowStore struct {
	catalog.Store
	delay time.Duration
}

func (s *slowStore) Head(ctx context.Context) (catalog.Head, error) {
	h, err := s.Store.Head(ctx)
	time.Sleep(s.delay)
	return h, err
}

// TestConfirmedWhenAsked: a refresh confirms the catalog as of when it asked the store, not when
// the answer came: after a Head that took 300 ms the catalog is already 300 ms old, so a key
// deleted elsewhere stops working within MaxStale of its deletion however slow the replies.
func TestConfirmedWhenAsked(t *testing.T) {
	ctx := context.Background()
	store := &slowStore{Store: catalog.NewMemory()}
	m, err := catalog.NewManager(ctx, catalog.ManagerConfig{Store: store, File: file()})
	if err != nil {
		t.Fatal(err)
	}
	store.delay = 300 * time.Millisecond
	if err := m.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if age := m.Live().Stale(200 * time.Millisecond); age < 300*time.Millisecond {
		t.Errorf("right after a refresh whose Head took 300ms the catalog counts as %v old, want at least 300ms", age)
	}
}
