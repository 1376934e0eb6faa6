package server

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/config"
)

// A reload recorded and then not committed is followed by a failed config.reload event whose
// detail says why: another change committed first (ErrStale, the reload being checked and
// recorded again) or the store failing before it answered (any other error).
func TestReloadNotCommittedDetail(t *testing.T) {
	ctx := context.Background()
	srv, _, trail := unservedServer(t)

	cases := []struct {
		name string
		err  error
		want string
	}{
		{"stale", fmt.Errorf("commit: %w", catalog.ErrStale),
			"not applied, another change was committed first (the reload is checked and recorded again): commit: " + catalog.ErrStale.Error()},
		{"store failure", fmt.Errorf("commit: %w", catalog.ErrUnavailable),
			"not confirmed, the catalog store failed before it answered: commit: " + catalog.ErrUnavailable.Error()},
		{"plain error", errors.New("disk full"),
			"not confirmed, the catalog store failed before it answered: disk full"},
	}
	recorded := 0 // config.reload events in the trail so far
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			reloadRecord{s: srv, detail: "configuration file objects reloaded"}.NotCommitted(ctx, tc.err)
			events, _, err := trail.List(ctx, config.RootSpace, "", 1000)
			if err != nil {
				t.Fatal(err)
			}
			var last *audit.Event // the trail lists oldest first
			n := 0
			for i := range events {
				if events[i].Action == "config.reload" {
					last = &events[i]
					n++
				}
			}
			if n != recorded+1 {
				t.Fatalf("%d config.reload events after NotCommitted, want %d", n, recorded+1)
			}
			recorded = n
			if last.Outcome != audit.Failed || last.Detail != tc.want {
				t.Errorf("config.reload event %s %q, want %s %q", last.Outcome, last.Detail, audit.Failed, tc.want)
			}
		})
	}
}
