package loadgen

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestAddSumsTheCPUOfEveryRound pins that a measurement split into rounds sums the server's and the
// driver's CPU of every round, as the CPU ratio divides them by every round's count.
// Guards against: result.go:54 r.ServerCPU += o.ServerCPU dropped
// Guards against: result.go:55 r.DriverCPU += o.DriverCPU dropped
func TestAddSumsTheCPUOfEveryRound(t *testing.T) {
	var r Result
	r.Add(Result{Count: 10, ServerCPU: 3 * time.Millisecond, DriverCPU: time.Millisecond})
	r.Add(Result{Count: 10, ServerCPU: 5 * time.Millisecond, DriverCPU: 2 * time.Millisecond})
	if r.ServerCPU != 8*time.Millisecond || r.DriverCPU != 3*time.Millisecond {
		t.Errorf("server CPU %v, driver CPU %v; want 8ms and 3ms", r.ServerCPU, r.DriverCPU)
	}
}

// TestInterleaveWithoutRoundsRunsOnce pins Alternation's documented "less than 1 counts as 1": no
// division by zero, each measure run once for the whole duration.
// Guards against: result.go:102 rounds := max(alt.Rounds, 1) -> alt.Rounds
func TestInterleaveWithoutRoundsRunsOnce(t *testing.T) {
	var calls []time.Duration
	m := func(_ context.Context, d time.Duration) Result {
		calls = append(calls, d)
		return Result{Count: 1, Elapsed: d}
	}
	for _, rounds := range []int{0, -3} {
		calls = nil
		a, b := Interleave(context.Background(), Alternation{Duration: time.Second, Rounds: rounds}, m, m)
		if len(calls) != 2 || calls[0] != time.Second || a.Count != 1 || b.Count != 1 {
			t.Errorf("rounds %d: calls %v, a %+v, b %+v; want each once for 1s", rounds, calls, a, b)
		}
	}
}

// TestCheckRefusesAMeasurementOfNothing pins that a measurement that completed nothing is an error,
// not a figure of rate 0 (or a ratio 0/0).
// Guards against: figures_tokens.go:20 r.Count == 0 check dropped
func TestCheckRefusesAMeasurementOfNothing(t *testing.T) {
	if err := check("raw signing", Result{Elapsed: time.Second}); err == nil {
		t.Error("check of a measurement that completed nothing: no error")
	}
	if err := check("raw signing", Result{Count: 1, Elapsed: time.Second}); err != nil {
		t.Errorf("check of one success: %v", err)
	}
}

// TestCPUCostNeedsTheReferencesCPU pins that the CPU comparison is left out (nil) when the
// reference's CPU is unknown, rather than reported as a ratio of 0.
// Guards against: cpu.go:104 refCPU <= 0 dropped
func TestCPUCostNeedsTheReferencesCPU(t *testing.T) {
	got := Result{Count: 1000, ServerCPU: 2 * time.Second, DriverCPU: time.Second}
	for _, c := range []struct {
		name    string
		ref     Result
		spender refSpender
	}{
		{"raw signing without the driver's CPU", Result{Count: 1000, ServerCPU: time.Second}, refOnDriver},
		{"another server without its CPU", Result{Count: 1000, DriverCPU: time.Second}, refOnServer},
	} {
		if cost := cpuCost(got, c.ref, c.spender); cost != nil {
			t.Errorf("%s: cost %+v, want none", c.name, *cost)
		}
	}
}

// TestBlockKeepsTheFiguresItMeasured pins that a step failing after it filled some of its figures
// marks only the others with its error: a measured figure keeps its status.
// Guards against: suite.go:172 f.Status == "" -> true
func TestBlockKeepsTheFiguresItMeasured(t *testing.T) {
	s := &suite{}
	s.report = &Report{Figures: s.plan()}
	boom := errors.New("boom")
	s.block(context.Background(), func(context.Context) error {
		s.fig("token_rs256_memory").Skip("nginx missing")
		return boom
	}, "token_rs256_memory", "open_loop_memory")
	if f := s.fig("token_rs256_memory"); f.Status != StatusSkipped {
		t.Errorf("token_rs256_memory: %s %q, want it left skipped", f.Status, f.Detail)
	}
	if f := s.fig("open_loop_memory"); f.Status != StatusError {
		t.Errorf("open_loop_memory: %s, want the step's error", f.Status)
	}
}

// cancelOnWrite cancels its context at the first progress line.
type cancelOnWrite struct {
	once   sync.Once
	cancel context.CancelFunc
	mu     sync.Mutex
	text   strings.Builder // every progress line
}

func (c *cancelOnWrite) Write(p []byte) (int, error) {
	c.once.Do(c.cancel)
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.text.Write(p)
}

// String is every progress line written so far.
func (c *cancelOnWrite) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.text.String()
}

// TestRunMarksFiguresCutByItsContextAsErrors pins that a figure a cancelled run never measured is
// reported as an error, never judged on its zero value (an open-loop p99 of 0 ms or an RSS of 0 MiB
// would pass their bars).
// Guards against: suite.go:132 if f.Status == "" && ctx.Err() != nil -> never
func TestRunMarksFiguresCutByItsContextAsErrors(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	report, err := Run(ctx, Config{Binary: "/nonexistent/broker", Duration: 20 * time.Millisecond, Clients: 1,
		Progress: &cancelOnWrite{cancel: cancel}})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"token_es256_memory", "open_loop_redis", "rss_peak", "catalog_10k_vs_10"} {
		if f := figureByID(t, report, id); f.Status != StatusError {
			t.Errorf("%s: %s (value %v), want an error: it was never measured", id, f.Status, f.Value)
		}
	}
	if len(report.Below()) != 0 {
		t.Errorf("figures below target in a run that measured nothing: %v", report.Below())
	}
}
