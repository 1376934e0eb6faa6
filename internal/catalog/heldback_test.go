package catalog

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/config"
)

// TestLostTemplateRecordIsWrittenBack: the record of a subject template a space held is a
// change like any other: a store that went back and lost it gets it written back by the replica
// that had it, so a space given an overlapping template afterwards, on any replica, is still
// refused.
// Guards against: template records written at the version the store held (0), not the next one
func TestLostTemplateRecordIsWrittenBack(t *testing.T) {
	const (
		old   = "repo:{callerId}:run:{runId}:{scope}"
		newer = "repo:{callerId}:run:{runId}:{scope}:v2"
		taker = "repo:v:run:{callerId}:{scope}"
	)
	store := NewMemory()
	clock := &crossingClock{}
	clock.ms.Store(1_000_000)
	a := crossingManager(t, store, clock)
	goBack := crossingSave(store)
	for _, tmpl := range []string{old, newer} {
		crossingApply(t, a, Mutation{Ref: Ref{Kind: KindSpace, ID: "a"},
			Object: config.Space{ID: "a", Parent: "prod", SubjectTemplate: tmpl}})
	}
	goBack() // the failover loses space a and the records of its templates
	if err := a.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	b := crossingManager(t, store, clock)
	_, err := b.Apply(context.Background(), Mutation{Ref: Ref{Kind: KindSpace, ID: "b"},
		Object: config.Space{ID: "b", Parent: "prod", SubjectTemplate: taker}})
	if !errors.Is(err, ErrInvalid) {
		t.Errorf("space b given a template overlapping one space a held, "+
			"after the store went back = %v, want refused", err)
	}
}

// countingCommits is a Store that keeps the changes of every commit it is asked for.
type countingCommits struct {
	Store
	commits [][]Change
}

func (p *countingCommits) Commit(ctx context.Context, at Head, changes []Change) (Head, error) {
	p.commits = append(p.commits, changes)
	return p.Store.Commit(ctx, at, changes)
}

// TestSharedTemplateRecordedOnce: a template several spaces hold when it is first
// recorded is recorded once, in one change, at the path of the first of them (in the file's
// order), whose subtrees' shares it counts in.
// Guards against: templateRecords not noting a template it just recorded (one change per space)
func TestSharedTemplateRecordedOnce(t *testing.T) {
	const shared = "team:{callerId}:run:{runId}:{scope}"
	f := crossingFile()
	f.Spaces = append(f.Spaces,
		config.Space{ID: "x", Parent: "root", SubjectTemplate: shared},
		config.Space{ID: "y", Parent: "prod", SubjectTemplate: shared})
	store := &countingCommits{Store: NewMemory()}
	cfg := ManagerConfig{Store: store, File: f}
	if _, err := NewManager(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, changes := range store.commits {
		for _, ch := range changes {
			place, _ := readTombstone(ch.Body)
			if h := decodeHeld(place); ch.Ref.Kind == kindTemplate && h.Template == shared {
				paths = append(paths, strings.Join(h.Path, "/"))
			}
		}
	}
	if len(paths) != 1 || paths[0] != "root/x" {
		t.Errorf("changes recording the shared template at paths %q, want one at root/x", paths)
	}
}

// TestLostSeenRecordIsWrittenBack: the store's record of the file as seen is versioned
// like the objects (its first version is 1), so a store that went back and lost it gets it
// written back by a replica that wrote it.
// Guards against: seenRecord written at the version the store held, not the next one
func TestLostSeenRecordIsWrittenBack(t *testing.T) {
	store := NewMemory()
	clock := &crossingClock{}
	clock.ms.Store(1_000_000)
	goBack := crossingSave(store) // empty
	a := crossingManager(t, store, clock)
	goBack()
	if err := a.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	snap, err := store.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	seen := func(r Record) bool { return r.Ref == seenRef && r.Version >= 1 }
	if !slices.ContainsFunc(snap.Records, seen) {
		t.Errorf("after the store lost it, the record of the file as seen is not written back: %+v",
			snap.Records)
	}
}
