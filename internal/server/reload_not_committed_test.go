package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/config"
)

// A reload recorded and then not committed is followed by a failed config.reload event whose
// detail says why: another change committed first (ErrStale, the reload being checked and
// recorded again) or the store failing before it answered (any other error).
func TestReloadNotCommittedDetail(t *testing.T) {
	ctx := context.Background()
	base := strings.NewReplacer("ISSUER", "http://127.0.0.1:1", "ALG", "ES256", "BACKEND", "memory",
		"PERIOD", "720h", "PREPUB", "1h", "RETAIN", "1h", "TOKENTTL", "15m",
		"SHA_LIMITED", sha256Hex(limitedSecret), "SHA_AUDITOR", sha256Hex(auditorSecret),
		"  dir: KEYDIR\n", "").Replace(adminConfig)
	cfg, err := config.Parse("test.yaml", []byte(base))
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{Logger: slog.New(slog.DiscardHandler), Now: time.Now}
	state, err := openBackends(ctx, cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	mem, ok := state.audit.(*audit.Memory)
	if !ok {
		t.Fatalf("the memory store's trail is a %T", state.audit)
	}
	s := &Server{cfg: cfg, log: opts.Logger, state: state, sweepEvery: DefaultSweepInterval}
	srv, err := s.build(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()

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
			events, _, err := mem.List(ctx, config.RootSpace, "", 1000)
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
