package catalogtest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/catalog"
)

// Factory returns a fresh, empty store for one subtest; it may register cleanups on t.
type Factory func(t *testing.T) catalog.Store

// contenders is the number of goroutines racing in the concurrency cases.
const contenders = 50

// Run runs the contract against stores from newStore.
func Run(t *testing.T, newStore Factory) {
	cases := []struct {
		name string
		fn   func(t *testing.T, s catalog.Store)
	}{
		{"EmptyStore", empty},
		{"CommitThenLoad", commitThenLoad},
		{"StaleCommitChangesNothing", staleCommit},
		{"DeleteRemoves", deleteRemoves},
		{"TombstoneKeepsVersionAndTime", tombstone},
		{"OneWinnerPerRevision", oneWinner},
		{"NoLostUpdate", noLostUpdate},
		{"NotifyAfterCommit", notify},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newStore(t)) })
	}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

// put is the change storing body as version of the object r.
func put(r catalog.Ref, version int64, body string) catalog.Change {
	return catalog.Change{Record: catalog.Record{Ref: r, Version: version, Body: []byte(body)}}
}

func del(kind catalog.Kind, id string) catalog.Change {
	return catalog.Change{Record: catalog.Record{Ref: catalog.Ref{Kind: kind, ID: id}}}
}

func empty(t *testing.T, s catalog.Store) {
	snap, err := s.Load(ctx(t))
	if err != nil || snap.Revision != 0 || len(snap.Records) != 0 {
		t.Fatalf("Load = %+v, %v; want revision 0 and no records", snap, err)
	}
	if head, err := s.Head(ctx(t)); err != nil || head != (catalog.Head{}) {
		t.Fatalf("Head = %+v, %v; want revision 0 and no commit", head, err)
	}
}

// tombstone: a record with an empty body (an object deleted through the API) comes back with
// its version and the time it holds (when the object was deleted), and still as a tombstone.
func tombstone(t *testing.T, s catalog.Store) {
	c := ctx(t)
	r := ref(catalog.KindSpace, "gone")
	gone := catalog.Change{Record: catalog.Record{Ref: r, Version: 3, Created: 1_767_225_600_123, Body: []byte{}}}
	if _, err := s.Commit(c, catalog.Head{}, []catalog.Change{gone}); err != nil {
		t.Fatal(err)
	}
	snap, err := s.Load(c)
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Records) != 1 {
		t.Fatalf("Load = %+v, want the tombstone", snap)
	}
	if got := snap.Records[0]; got.Ref != r || got.Version != 3 || got.Created != 1_767_225_600_123 || len(got.Body) != 0 {
		t.Errorf("tombstone came back as %+v", got)
	}
}

func commitThenLoad(t *testing.T, s catalog.Store) {
	c := ctx(t)
	head, err := s.Commit(c, catalog.Head{}, []catalog.Change{
		put(ref(catalog.KindStack, "b"), 1, `{"id":"b"}`),
		put(ref(catalog.KindSpace, "a"), 4, `{"id":"a"}`),
		put(ref(catalog.KindAttachment, "b/x"), 2, `{"stack":"b","integration":"x"}`),
	})
	if err != nil || head.Revision != 1 || head.Commit == "" {
		t.Fatalf("Commit = %+v, %v; want revision 1 and the commit's id", head, err)
	}
	snap, err := s.Load(c)
	if err != nil {
		t.Fatal(err)
	}
	if snap.Head() != head || len(snap.Records) != 3 {
		t.Fatalf("Load = %+v, want the records at %+v", snap, head)
	}
	if now, err := s.Head(c); err != nil || now != head {
		t.Fatalf("Head = %+v, %v; want %+v", now, err, head)
	}
	// Records come in dependency order: spaces before stacks before attachments.
	want := []string{"space a 4 {\"id\":\"a\"}", "stack b 1 {\"id\":\"b\"}", "attachment b/x 2 {\"stack\":\"b\",\"integration\":\"x\"}"}
	for i, r := range snap.Records {
		if got := fmt.Sprintf("%s %d %s", r.Ref, r.Version, r.Body); got != want[i] {
			t.Errorf("record %d = %s, want %s", i, got, want[i])
		}
	}
}

func staleCommit(t *testing.T, s catalog.Store) {
	c := ctx(t)
	if _, err := s.Commit(c, catalog.Head{}, []catalog.Change{put(ref(catalog.KindRole, "r"), 1, `{}`)}); err != nil {
		t.Fatal(err)
	}
	_, err := s.Commit(c, catalog.Head{}, []catalog.Change{put(ref(catalog.KindRole, "q"), 1, `{}`)})
	if !errors.Is(err, catalog.ErrStale) {
		t.Fatalf("Commit at an old revision = %v, want ErrStale", err)
	}
	// The revision alone is not the state: a commit at revision 1 made by another commit (as
	// a store that went back and moved on again holds) is stale too.
	_, err = s.Commit(c, catalog.Head{Revision: 1, Commit: "0123456789abcdef0123456789abcdef"}, []catalog.Change{put(ref(catalog.KindRole, "q"), 1, `{}`)})
	if !errors.Is(err, catalog.ErrStale) {
		t.Fatalf("Commit at revision 1 of another commit = %v, want ErrStale", err)
	}
	snap, _ := s.Load(c)
	if snap.Revision != 1 || len(snap.Records) != 1 {
		t.Fatalf("a stale commit changed the store: %+v", snap)
	}
}

func deleteRemoves(t *testing.T, s catalog.Store) {
	c := ctx(t)
	head, err := s.Commit(c, catalog.Head{}, []catalog.Change{put(ref(catalog.KindRole, "r"), 1, `{}`), put(ref(catalog.KindRole, "q"), 1, `{}`)})
	if err != nil {
		t.Fatal(err)
	}
	if head, err = s.Commit(c, head, []catalog.Change{del(catalog.KindRole, "r")}); err != nil || head.Revision != 2 {
		t.Fatalf("delete commit = %+v, %v", head, err)
	}
	snap, _ := s.Load(c)
	if len(snap.Records) != 1 || snap.Records[0].Ref.ID != "q" {
		t.Fatalf("after delete: %+v", snap.Records)
	}
}

func oneWinner(t *testing.T, s catalog.Store) {
	c := ctx(t)
	var wins atomic.Int32
	var wg sync.WaitGroup
	for i := range contenders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.Commit(c, catalog.Head{}, []catalog.Change{put(ref(catalog.KindStack, "s"), 1, fmt.Sprintf(`{"n":%d}`, i))})
			switch {
			case err == nil:
				wins.Add(1)
			case !errors.Is(err, catalog.ErrStale):
				t.Errorf("Commit: %v", err)
			}
		}()
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d commits at revision 0 succeeded, want exactly 1", wins.Load())
	}
}

func noLostUpdate(t *testing.T, s catalog.Store) {
	c := ctx(t)
	var wg sync.WaitGroup
	for range contenders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				snap, err := s.Load(c)
				if err != nil {
					t.Errorf("Load: %v", err)
					return
				}
				var v int64
				for _, r := range snap.Records {
					v = r.Version
				}
				_, err = s.Commit(c, snap.Head(), []catalog.Change{put(ref(catalog.KindStack, "s"), v+1, `{}`)})
				if err == nil {
					return
				}
				if !errors.Is(err, catalog.ErrStale) {
					t.Errorf("Commit: %v", err)
					return
				}
			}
		}()
	}
	wg.Wait()
	snap, _ := s.Load(c)
	if snap.Revision != contenders || len(snap.Records) != 1 || snap.Records[0].Version != contenders {
		t.Fatalf("after %d read-modify-writes: revision %d, records %+v", contenders, snap.Revision, snap.Records)
	}
}

func notify(t *testing.T, s catalog.Store) {
	c, cancel := context.WithCancel(ctx(t))
	defer cancel()
	ch := s.Notify(c)
	// A subscription may take a moment to be in place; commit until a notice arrives.
	deadline := time.After(10 * time.Second)
	var head catalog.Head
	for {
		var err error
		if head, err = s.Commit(c, head, []catalog.Change{put(ref(catalog.KindRole, "r"), head.Revision+1, `{}`)}); err != nil {
			t.Fatal(err)
		}
		select {
		case <-ch:
			cancel()
			for range ch { // closed once ctx ends
			}
			return
		case <-time.After(100 * time.Millisecond):
		case <-deadline:
			t.Fatal("no notice within 10s of commits")
		}
	}
}
