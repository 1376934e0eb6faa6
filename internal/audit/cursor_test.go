package audit_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/audit"
)

// TestParseCursor: a cursor reads back only as the stores write it, so that one position has
// one cursor; anything else is ErrBadCursor.
func TestParseCursor(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		bad  bool
	}{
		{"", 0, false},
		{"0", 0, false},
		{"5", 5, false},
		{"9223372036854775807", 9223372036854775807, false},
		{"+5", 0, true},
		{"007", 0, true},
		{"00", 0, true},
		{"-1", 0, true},
		{"-0", 0, true},
		{" 5", 0, true},
		{"5 ", 0, true},
		{"0x5", 0, true},
		{"9223372036854775808", 0, true},
		{"five", 0, true},
	}
	for _, tt := range tests {
		got, err := audit.ParseCursor(tt.in)
		switch {
		case tt.bad && !errors.Is(err, audit.ErrBadCursor):
			t.Errorf("ParseCursor(%q) = %d, %v; want ErrBadCursor", tt.in, got, err)
		case !tt.bad && (err != nil || got != tt.want):
			t.Errorf("ParseCursor(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
}

// TestMemoryCursorOutlivesTrims: a cursor handed out before the memory store dropped its oldest
// events goes on with the oldest event still kept, and paging a space from its start after
// trims lists each kept event once, in order.
func TestMemoryCursorOutlivesTrims(t *testing.T) {
	m := audit.NewMemoryRetaining(4)
	appendN := func(from, to int) {
		for i := from; i < to; i++ {
			if _, err := m.Append(t.Context(), audit.Event{ID: fmt.Sprintf("e%02d", i)}, []string{"prod", "root"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	appendN(0, 3)
	first, cursor, err := m.List(t.Context(), "prod", "", 1)
	if err != nil || len(first) != 1 || first[0].ID != "e00" || cursor == "" {
		t.Fatalf("first page %+v, next %q, %v", first, cursor, err)
	}
	appendN(3, 20)
	kept, _, err := m.List(t.Context(), "prod", "", 100)
	if err != nil || len(kept) < 4 || kept[len(kept)-1].ID != "e19" || kept[0].ID == "e00" {
		t.Fatalf("after trims prod keeps %d events (%v)", len(kept), err)
	}
	after, _, err := m.List(t.Context(), "prod", cursor, 100)
	if err != nil || len(after) != len(kept) || after[0].ID != kept[0].ID {
		t.Errorf("the cursor of before the trims lists %d events from %v, want the %d kept from %s (%v)",
			len(after), ids(after), len(kept), kept[0].ID, err)
	}
	var paged []audit.Event
	for c := ""; ; {
		page, next, err := m.List(t.Context(), "prod", c, 2)
		if err != nil {
			t.Fatal(err)
		}
		if paged = append(paged, page...); next == "" {
			break
		}
		c = next
	}
	if got, want := ids(paged), ids(kept); got != want {
		t.Errorf("paged by 2: %s, want %s", got, want)
	}
}

// ids joins the ids of events.
func ids(events []audit.Event) string {
	var b strings.Builder
	for _, e := range events {
		b.WriteString(e.ID + " ")
	}
	return b.String()
}
