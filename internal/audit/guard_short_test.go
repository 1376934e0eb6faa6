package audit_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/brokerhq/broker/internal/audit"
)

// TestGuardRefusesAChainOneEventShort: a store whose head holds even one event fewer than
// the replica already checked, with the tail left at the hash the replica trusted, is refused
// with ErrNotExtended and nothing is signed over it.
// Guards against: guard.go:extends head.Count < from.count -> head.Count < from.count-1
func TestGuardRefusesAChainOneEventShort(t *testing.T) {
	for _, count := range []int64{10, 8} {
		t.Run(fmt.Sprint(count), func(t *testing.T) {
			ctx := context.Background()
			m := audit.NewMemory()
			z := &flakyStore{Store: m}
			f := &fakeSign{}
			cp := newTestCheckpointer(t, z, f, 5)
			for round := range 2 { // the replica checks and trusts the first 11 events
				appendN(t, cp, 5)
				if wrote, err := cp.Check(ctx); !wrote || err != nil {
					t.Fatalf("round %d: checkpoint written %v, %v", round, wrote, err)
				}
			}
			all, _, _ := m.List(ctx, "root", "", 100)
			trustedTail, err := audit.Hash(all[10])
			if err != nil {
				t.Fatal(err)
			}
			z.head = func(audit.Head) audit.Head { return audit.Head{Count: count, Tail: trustedTail} }
			signed := f.calls.Load()
			wrote, err := cp.Check(ctx)
			if wrote || !errors.Is(err, audit.ErrNotExtended) {
				t.Errorf("over a chain of %d events after 11 were checked: written %v, %v; want none, ErrNotExtended", count, wrote, err)
			}
			if n := f.calls.Load() - signed; n != 0 {
				t.Errorf("%d checkpoints signed over the shorter chain", n)
			}
		})
	}
}
