package loadgen

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/keys"
)

// TestRunRefusesANonPositiveDuration pins that a run of no (or a negative) duration is
// refused before anything is measured.
// Guards against: suite.go:Run cfg.Duration <= 0 check dropped
func TestRunRefusesANonPositiveDuration(t *testing.T) {
	for _, d := range []time.Duration{0, -time.Second} {
		report, err := Run(context.Background(), Config{Target: Broker{URL: "http://127.0.0.1:1"}, Duration: d, Clients: 1})
		if err == nil || report != nil {
			t.Errorf("Run for %v: report %v, error %v; want a refusal", d, report != nil, err)
		}
	}
}

// TestNoSoakSkipsTheSlope pins that without a soak the memory slope is skipped, saying how to
// judge it, even when the memory step then fails: it is never left to be judged on a slope of 0.
// Guards against: figures_memory.go:memoryFigures s.cfg.Soak <= 0 -> < 0
func TestNoSoakSkipsTheSlope(t *testing.T) {
	s := &suite{cfg: Config{Binary: "/nonexistent/broker", Duration: 20 * time.Millisecond, Clients: 1}, dir: t.TempDir()}
	s.report = &Report{Figures: s.plan()}
	s.block(context.Background(), s.memoryFigures, "rss_peak", "rss_soak_slope")
	if f := s.fig("rss_soak_slope"); f.Status != StatusSkipped || !strings.Contains(f.Detail, "--soak") {
		t.Errorf("rss_soak_slope: %s %q, want skipped, naming --soak", f.Status, f.Detail)
	}
	if f := s.fig("rss_peak"); f.Status != StatusError {
		t.Errorf("rss_peak: %s %q, want the step's error", f.Status, f.Detail)
	}
}

// TestRawSigningFigureSumsTheRunsSegments pins that a raw signing figure whose algorithm was a
// reference in the run is the rate of those reference segments, not a new measurement.
// Guards against: figures_tokens.go:finishReferences ref.Count == 0 && f.Status == "" -> f.Status
// == ""
func TestRawSigningFigureSumsTheRunsSegments(t *testing.T) {
	s := targetSuite(t, Broker{URL: "http://127.0.0.1:1"}, 10*time.Millisecond)
	*s.refs[keys.ES256] = Result{Count: 1234, Elapsed: 2 * time.Second}
	s.finishReferences(context.Background())
	if f := s.fig("raw_sign_es256"); f.Value != 617 || !strings.Contains(f.Detail, "1234 signatures") {
		t.Errorf("raw_sign_es256: %v (%q), want 617 signs/s from the run's 1234 signatures in 2 s", f.Value, f.Detail)
	}
	if f := s.fig("raw_sign_rs256"); f.Value <= 0 {
		t.Errorf("raw_sign_rs256: %v (%q), want a measurement of its own", f.Value, f.Detail)
	}
}

// TestCancelledRunMeasuresNothingMore pins that a run whose context has ended (an
// interrupted bench) measures nothing more: it does not spin every core on raw signing for the
// figure duration per algorithm only to report those figures as not measured, which they are.
// Guards against: finishReferences measuring with context.Background() whatever Run's context
func TestCancelledRunMeasuresNothingMore(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	progress := &cancelOnWrite{cancel: cancel} // cancelled at the first step's progress line
	report, err := Run(ctx, Config{Binary: "/nonexistent/broker", Duration: time.Second, Clients: 1, Progress: progress})
	if err != nil {
		t.Fatal(err)
	}
	if text := progress.String(); strings.Contains(text, "measuring raw") {
		t.Errorf("a cancelled run went on to measure raw signing:\n%s", text)
	}
	for _, id := range []string{"raw_sign_rs256", "raw_sign_es256"} {
		if f := figureByID(t, report, id); f.Status != StatusError || !strings.Contains(f.Detail, "not measured") {
			t.Errorf("%s: %s %q, want an error saying it was not measured", id, f.Status, f.Detail)
		}
	}
}
