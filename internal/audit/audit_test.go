package audit_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/audit/audittest"
)

func TestMemoryContract(t *testing.T) {
	audittest.TestStore(t, func(t *testing.T) (audit.Store, audit.Store) {
		m := audit.NewMemory()
		return m, m
	})
}

// sharedMemory is a Memory as a store others may write: its Checkpointer checks it as it
// checks Redis (a Memory of its own replica it does not, see Checkpointer).
type sharedMemory struct{ audit.Store }

func TestMemoryAnchoring(t *testing.T) {
	audittest.TestAnchoring(t, func(t *testing.T) (audit.Store, audittest.Tamperer) {
		m := audit.NewMemory()
		return sharedMemory{m}, audit.MemoryTamperer{M: m}
	})
}

// TestHashIsRFC8785 pins the canonical form against a hash computed independently (Python's
// json.dumps with sorted keys, no whitespace, no ASCII escaping, which is RFC 8785 for these
// strings): keys sorted, no whitespace, no HTML escaping of <&>, é and U+2028 left as UTF-8.
func TestHashIsRFC8785(t *testing.T) {
	e := audit.Event{ID: "1", Time: "t", Actor: "a", Action: "x", Detail: "<&> é \u2028"}
	const want = "68d8efb39d1580b55026bc6630ccc76d8c7d1d53d590b770c27a3f24c7fa9148"
	got, err := audit.Hash(e)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("Hash = %s, want %s", got, want)
	}
}

func TestVerifyDetectsTampering(t *testing.T) {
	m := audit.NewMemory()
	for _, id := range []string{"a", "b", "c"} {
		if _, err := m.Append(t.Context(), audit.Event{ID: id, Detail: "d"}, []string{"root"}); err != nil {
			t.Fatal(err)
		}
	}
	events, _, _ := m.List(t.Context(), "root", "", 10)
	if err := audit.Verify(events); err != nil {
		t.Fatal(err)
	}
	events[1].Detail = "changed"
	if err := audit.Verify(events); !errors.Is(err, audit.ErrBroken) {
		t.Errorf("tampered chain: %v", err)
	}
	events, _, _ = m.List(t.Context(), "root", "", 10)
	if err := audit.Verify([]audit.Event{events[0], events[2]}); !errors.Is(err, audit.ErrBroken) {
		t.Errorf("removed event: %v", err)
	}
}

func TestMemoryRetainsTheLatestEvents(t *testing.T) {
	m := audit.NewMemoryRetaining(10)
	for i := 0; i < 35; i++ {
		space := []string{"a", "root"}
		if i%5 == 0 {
			space = []string{"b", "root"}
		}
		if _, err := m.Append(t.Context(), audit.Event{ID: fmt.Sprint(i)}, space); err != nil {
			t.Fatal(err)
		}
	}
	var all []audit.Event
	cursor := ""
	for {
		events, next, err := m.List(t.Context(), "root", cursor, 3)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, events...)
		if next == "" {
			break
		}
		cursor = next
	}
	if len(all) < 10 || len(all) > 20 || all[len(all)-1].ID != "34" {
		t.Fatalf("kept %d events ending %s; want the latest 10 to 20 ending 34", len(all), all[len(all)-1].ID)
	}
	if err := audit.Verify(all); err != nil {
		t.Errorf("retained chain: %v", err)
	}
	b, _, _ := m.List(t.Context(), "b", "", 100)
	for _, e := range b {
		var n int
		fmt.Sscan(e.ID, &n)
		if n%5 != 0 {
			t.Errorf("space b lists event %s", e.ID)
		}
	}
}
