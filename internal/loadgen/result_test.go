package loadgen

import (
	"context"
	"slices"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = time.Duration(100-i) * time.Millisecond // 100 ms down to 1 ms: unsorted
	}
	cases := []struct {
		name    string
		samples []time.Duration
		p       float64
		want    time.Duration
	}{
		{"no samples", nil, 99, 0},
		{"one sample", []time.Duration{7}, 50, 7},
		{"p50 of 1..100", hundred, 50, 50 * time.Millisecond},
		{"p99 of 1..100", hundred, 99, 99 * time.Millisecond},
		{"p100 is the max", hundred, 100, 100 * time.Millisecond},
		{"p99.9 of 100 is the max", hundred, 99.9, 100 * time.Millisecond},
		{"a tiny p is the min", hundred, 0.001, time.Millisecond},
		{"p50 of two is the lower", []time.Duration{9, 3}, 50, 3},
		{"p51 of two is the upper", []time.Duration{9, 3}, 51, 9},
		{"p99 of ten is the max", []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 99, 10},
		{"p90 of ten is the ninth", []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 90, 9},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := slices.Clone(c.samples)
			if got := Percentile(c.samples, c.p); got != c.want {
				t.Errorf("Percentile(%v) = %v, want %v", c.p, got, c.want)
			}
			if !slices.Equal(before, c.samples) {
				t.Error("Percentile reordered its input")
			}
		})
	}
}

func TestResultRateAndAdd(t *testing.T) {
	var r Result
	if r.Rate() != 0 {
		t.Errorf("rate of nothing = %v, want 0", r.Rate())
	}
	first := context.Canceled
	r.Add(Result{Count: 100, Elapsed: time.Second, Latencies: []time.Duration{1}})
	r.Add(Result{Count: 50, Errors: 2, FirstErr: first, Elapsed: time.Second, Latencies: []time.Duration{2, 3}})
	r.Add(Result{Errors: 1, FirstErr: context.DeadlineExceeded})
	if r.Count != 150 || r.Errors != 3 || r.FirstErr != first || len(r.Latencies) != 3 {
		t.Errorf("sum = %+v", r)
	}
	if r.Rate() != 75 {
		t.Errorf("rate = %v, want 75", r.Rate())
	}
}

func TestInterleaveAlternatesAndSums(t *testing.T) {
	var calls []string
	fake := func(name string, count int64) Measure {
		return func(_ context.Context, d time.Duration) Result {
			calls = append(calls, name+":"+d.String())
			return Result{Count: count, Elapsed: d}
		}
	}
	a, b := Interleave(context.Background(), Alternation{Duration: 4 * time.Second, Rounds: 2}, fake("a", 10), fake("b", 30))
	if want := []string{"a:2s", "b:2s", "a:2s", "b:2s"}; !slices.Equal(calls, want) {
		t.Errorf("calls = %v, want %v", calls, want)
	}
	if a.Count != 20 || a.Elapsed != 4*time.Second || b.Count != 60 || b.Elapsed != 4*time.Second {
		t.Errorf("a = %+v, b = %+v", a, b)
	}
	if a.Rate()/b.Rate() != 1.0/3 {
		t.Errorf("ratio = %v, want 1/3", a.Rate()/b.Rate())
	}

	calls = nil
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	Interleave(ctx, Alternation{Duration: time.Second, Rounds: 2}, fake("a", 1), fake("b", 1))
	if len(calls) != 0 {
		t.Errorf("a cancelled interleave still measured: %v", calls)
	}
}
