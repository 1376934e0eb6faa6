package redisstore_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/testutil/redistest"
)

// fillTrail puts n events in the trail at prefix, server side, each indexed under root and every
// sparse-th one also under space "sparse"; event i's Detail is its position.
func fillTrail(t testing.TB, srv *redistest.Server, prefix string, n, sparse int) {
	t.Helper()
	const fill = `
local first = tonumber(ARGV[2])
for i = first, first + tonumber(ARGV[3]) - 1 do
  local pos = redis.call('RPUSH', KEYS[1], string.format(ARGV[1], i)) - 1
  redis.call('RPUSH', KEYS[2], pos)
  if pos % tonumber(ARGV[4]) == 0 then redis.call('RPUSH', KEYS[3], pos) end
end
return 1`
	ev, err := json.Marshal(audit.Event{ID: "01JAAAAAAAAAAAAAAAAAAAAAAA", Time: "2025-01-01T00:00:00.123456789Z",
		Actor: "run:01JAAAAAAAAAAAAAAAAAAAAAAA", Action: "token.issue", Space: "prod", Stack: "vpc-prod",
		Run: "01JAAAAAAAAAAAAAAAAAAAAAAA", Outcome: "success", Detail: "POS", Prev: ""})
	if err != nil {
		t.Fatal(err)
	}
	format := strings.Replace(string(ev), `"POS"`, `"%d"`, 1)
	rc := srv.Client()
	for done := 0; done < n; done += 50000 {
		keys := []string{prefix + "audit:events", prefix + "audit:space:root", prefix + "audit:space:sparse"}
		if err := rc.Eval(context.Background(), fill, keys, format, done, min(50000, n-done), sparse).Err(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestAuditListSparsePages: a space whose events are scattered through the chain lists every one
// of them, in order, across pages that each take several bounded reads of the store.
func TestAuditListSparsePages(t *testing.T) {
	srv := redistest.Start(t)
	prefix := uniquePrefix()
	c := open(t, srv, prefix, suiteTimeout)
	const n, sparse = 20_000, 7
	fillTrail(t, srv, prefix, n, sparse)
	for _, tc := range []struct {
		space string
		every int
	}{{"sparse", sparse}, {"root", 1}} {
		cursor, want := "", 0
		for page := 0; ; page++ {
			events, next, err := c.Audit().List(context.Background(), tc.space, cursor, 1000)
			if err != nil {
				t.Fatalf("%s page %d: %v", tc.space, page, err)
			}
			for _, e := range events {
				if e.Detail != strconv.Itoa(want) {
					t.Fatalf("%s page %d: event %q, want position %d", tc.space, page, e.Detail, want)
				}
				want += tc.every
			}
			if next == "" {
				break
			}
			cursor = next
		}
		if want < n {
			t.Errorf("%s: listed up to position %d of %d", tc.space, want, n)
		}
	}
}

// BenchmarkAuditListDeep reads a page of 1,000 events at the start and in the middle of a
// 300,000-event trail: the middle must not cost more in proportion to the trail's length.
func BenchmarkAuditListDeep(b *testing.B) {
	srv := redistest.Start(b)
	prefix := uniquePrefix()
	c := open(b, srv, prefix, suiteTimeout)
	const n = 300_000
	fillTrail(b, srv, prefix, n, 100)
	for _, at := range []int{0, n / 2} {
		b.Run(fmt.Sprintf("root-at-%d", at), func(b *testing.B) {
			for b.Loop() {
				if events, _, err := c.Audit().List(context.Background(), "root", strconv.Itoa(at), 1000); err != nil || len(events) != 1000 {
					b.Fatalf("%d events, %v", len(events), err)
				}
			}
		})
		b.Run(fmt.Sprintf("sparse-at-%d", at/100), func(b *testing.B) {
			for b.Loop() {
				if events, _, err := c.Audit().List(context.Background(), "sparse", strconv.Itoa(at/100), 1000); err != nil || len(events) != 1000 {
					b.Fatalf("%d events, %v", len(events), err)
				}
			}
		})
	}
}

// TestAuditListIndexPastEvents: a space index naming positions past the event list's end (the
// latest events removed by hand, the index left) makes the listing fail once it reaches them,
// rather than leave them out and answer a cursor that never moves.
func TestAuditListIndexPastEvents(t *testing.T) {
	srv := redistest.Start(t)
	prefix := uniquePrefix()
	c := open(t, srv, prefix, suiteTimeout)
	fillTrail(t, srv, prefix, 10, 1)
	if err := srv.Client().LTrim(context.Background(), prefix+"audit:events", 0, 4).Err(); err != nil {
		t.Fatal(err)
	}
	cursor, listed := "", 0
	for page := 0; page < 10; page++ {
		events, next, err := c.Audit().List(context.Background(), "root", cursor, 3)
		if err != nil {
			if listed < 3 {
				t.Errorf("the listing failed after %d events, want it to list the 3 of the first page: %v", listed, err)
			}
			return
		}
		if next == "" || next == cursor {
			t.Fatalf("page %d after %q: %d events, next %q: the listing of a damaged index ended without an error", page, cursor, len(events), next)
		}
		listed += len(events)
		cursor = next
	}
	t.Fatal("the listing of 10 indexed events did not end in 10 pages")
}
