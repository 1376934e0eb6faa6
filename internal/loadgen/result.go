package loadgen

import (
	"context"
	"math"
	"slices"
	"time"
)

// Worker sends one request and waits for its answer. Each closed-loop client and each open-loop
// connection owns one Worker, so a Worker need not be safe for concurrent use.
type Worker interface {
	Do(ctx context.Context) error
}

// WorkerFunc adapts a function to Worker.
type WorkerFunc func(ctx context.Context) error

// Do calls f.
func (f WorkerFunc) Do(ctx context.Context) error { return f(ctx) }

// Result is what one measurement counted.
type Result struct {
	// Count is how many operations completed as expected.
	Count int64
	// Errors is how many failed; FirstErr is the first of them.
	Errors   int64
	FirstErr error
	// Elapsed is the wall time the operations took.
	Elapsed time.Duration
	// Latencies holds the latency of every completed operation (empty when not recorded).
	Latencies []time.Duration
	// ServerCPU and DriverCPU are the CPU time the server and this process used (see WithCPU).
	ServerCPU, DriverCPU time.Duration
	// Rejected, when set, is why the answers were found wrong as a whole after the run (its
	// sampled tokens did not verify: verifiedLoad), though each passed the cheap check of
	// every answer; check makes it the measurement's error.
	Rejected error
}

// Rate is the completed operations per second.
func (r Result) Rate() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Count) / r.Elapsed.Seconds()
}

// Add accumulates o into r, as one measurement split into rounds.
func (r *Result) Add(o Result) {
	r.Count += o.Count
	r.Errors += o.Errors
	if r.FirstErr == nil {
		r.FirstErr = o.FirstErr
	}
	if r.Rejected == nil {
		r.Rejected = o.Rejected
	}
	r.Elapsed += o.Elapsed
	r.Latencies = append(r.Latencies, o.Latencies...)
	r.ServerCPU += o.ServerCPU
	r.DriverCPU += o.DriverCPU
}

// Percentile returns the p-th percentile (0 < p ≤ 100) of samples by the nearest-rank method:
// the smallest sample that at least p percent of the samples do not exceed. It returns 0 for no
// samples. samples is not modified.
func Percentile(samples []time.Duration, p float64) time.Duration {
	return percentiles(samples, p)[0]
}

// percentiles returns several nearest-rank percentiles of samples, sorting a copy once.
func percentiles(samples []time.Duration, ps ...float64) []time.Duration {
	out := make([]time.Duration, len(ps))
	if len(samples) == 0 {
		return out
	}
	sorted := slices.Clone(samples)
	slices.Sort(sorted)
	for i, p := range ps {
		out[i] = sorted[nearestRank(len(sorted), p)]
	}
	return out
}

// nearestRank is the index, in n sorted samples, of the p-th percentile: ceil(p/100 × n) − 1,
// clamped to the samples.
func nearestRank(n int, p float64) int {
	rank := int(math.Ceil(p * float64(n) / 100))
	return min(max(rank-1, 0), n-1)
}

// Measure runs one kind of operation for d and returns what it counted.
type Measure func(ctx context.Context, d time.Duration) Result

// Alternation is how Interleave alternates two measures: for how long in all and in how many
// rounds.
type Alternation struct {
	// Duration is how long each measure runs in all, split evenly over the rounds.
	Duration time.Duration
	// Rounds is how many times each measure runs; less than 1 counts as 1.
	Rounds int
}

// Interleave runs a and b in turn, alt.Rounds times each, for alt.Duration/alt.Rounds each time,
// and returns their summed results: alternating cancels most of the drift of a shared machine from
// their ratio. It stops early, with what was counted so far, when ctx ends.
func Interleave(ctx context.Context, alt Alternation, a, b Measure) (Result, Result) {
	rounds := max(alt.Rounds, 1)
	slice := alt.Duration / time.Duration(rounds)
	var ra, rb Result
	for range rounds {
		if ctx.Err() != nil {
			break
		}
		ra.Add(a(ctx, slice))
		if ctx.Err() != nil {
			break
		}
		rb.Add(b(ctx, slice))
	}
	return ra, rb
}
