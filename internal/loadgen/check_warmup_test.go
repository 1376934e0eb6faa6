package loadgen

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// TestCheckCountsEveryRequestAndWrapsTheFirstError checks that a measurement with failed
// requests is reported as failed requests out of all it sent (failed and completed), wrapping
// the first error so callers can still match it.
// Guards against: figures_tokens.go:check total r.Errors+r.Count -> r.Count
// Guards against: figures_tokens.go:check %w -> %v
func TestCheckCountsEveryRequestAndWrapsTheFirstError(t *testing.T) {
	boom := errors.New("status 500")
	err := check("POST /v1/token", Result{Count: 8, Errors: 2, FirstErr: boom})
	if err == nil || !strings.Contains(err.Error(), "2 of 10 requests failed") ||
		!errors.Is(err, boom) {
		t.Errorf("check = %v, want 2 of 10 requests failed, wrapping the first error", err)
	}
}

// TestWarmupIsAFifthBetweenATenthAndOneSecond checks the warm-up's length: a fifth of the
// figure duration, at least 100 ms and at most one second.
// Guards against: figures_tokens.go:warmup floor 100 ms -> 10 ms
// Guards against: figures_tokens.go:warmup one-second cap dropped
// Guards against: figures_tokens.go:warmup Duration/5 -> Duration/10
func TestWarmupIsAFifthBetweenATenthAndOneSecond(t *testing.T) {
	for d, want := range map[time.Duration]time.Duration{
		100 * time.Millisecond: 100 * time.Millisecond,
		2 * time.Second:        400 * time.Millisecond,
		10 * time.Second:       time.Second,
	} {
		s := &suite{cfg: Config{Duration: d}}
		if got := s.warmup(); got != want {
			t.Errorf("warm-up of a %v figure: %v, want %v", d, got, want)
		}
	}
}

// TestCancelledRunKeepsDecidedFigures checks that a run cut short by its context marks
// only the figures it never decided as not measured: a figure skipped before the cut (the memory
// figures of a --target run) stays skipped, with its reason.
// Guards against: suite.go:Run f.Status == "" && ctx.Err() != nil -> ctx.Err() != nil
func TestCancelledRunKeepsDecidedFigures(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	report, err := Run(ctx, Config{Target: Broker{URL: closedURL(t), APIKey: "k", Stack: "s"},
		Duration: time.Second, Clients: 1, Progress: &cancelOnWrite{cancel: cancel}})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"rss_peak", "rss_soak_slope", "catalog_10k_vs_10", "catalog_10k_vs_10_es256"} {
		if f := figureByID(t, report, id); f.Status != StatusSkipped || f.Detail != notOnTarget {
			t.Errorf("%s: %s %q, want skipped: %q", id, f.Status, f.Detail, notOnTarget)
		}
	}
}
