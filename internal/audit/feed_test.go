package audit_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/audit/audittest"
)

func TestMemoryFeedContract(t *testing.T) {
	audittest.TestFeed(t, func(t *testing.T) audittest.Feed {
		m, c := audit.NewMemory(), audit.NewMemoryCursors(nil)
		return audittest.Feed{Store: m, Reader: m, A: c, B: c}
	})
}

// A memory store that dropped its oldest events says where what it still holds starts.
func TestMemoryRangePastRetention(t *testing.T) {
	ctx := context.Background()
	m := audit.NewMemoryRetaining(3)
	for i := range 10 { // trimmed past 2*3: the last 3 or more remain
		if _, err := m.Append(ctx, audit.Event{ID: fmt.Sprint(i)}, []string{"root"}); err != nil {
			t.Fatal(err)
		}
	}
	evs, from, err := m.Range(ctx, 0, 100)
	if err != nil || from == 0 || len(evs) == 0 || evs[len(evs)-1].ID != "9" || evs[0].ID != fmt.Sprint(from) {
		t.Fatalf("Range(0) = %v from %d, %v", evs, from, err)
	}
	if evs, from2, _ := m.Range(ctx, from+1, 1); from2 != from+1 || len(evs) != 1 || evs[0].ID != fmt.Sprint(from+1) {
		t.Fatalf("Range(%d) = %v from %d", from+1, evs, from2)
	}
}
