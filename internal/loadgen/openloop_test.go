package loadgen

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

func TestOffsetDoesNotDrift(t *testing.T) {
	cases := []struct {
		i    int64
		rate float64
		want time.Duration
	}{
		{0, 500, 0},
		{1, 500, 2 * time.Millisecond},
		{3, 3, time.Second}, // 1/3 s does not add up exactly three times; i/rate does
		{300_000, 3, 100_000 * time.Second},
		{1_000_000, 1000, 1000 * time.Second},
		{7, 0.5, 14 * time.Second},
	}
	for _, c := range cases {
		if got := Offset(c.i, c.rate); got != c.want {
			t.Errorf("Offset(%d, %v) = %v, want %v", c.i, c.rate, got, c.want)
		}
	}
}

// TestScheduleLen requires a schedule at rate per second over d to hold the whole part of
// rate × d requests, counted without the rounding error of a product of seconds.
func TestScheduleLen(t *testing.T) {
	cases := []struct {
		rate float64
		d    time.Duration
		want int64
	}{
		{500, 5 * time.Second, 2500},
		{250.5, 2 * time.Second, 501},
		{10, 50 * time.Millisecond, 0},
		// rate × seconds in floating point is 28.999…, 28.999… and 56.999… for these.
		{100, 290 * time.Millisecond, 29},
		{200, 145 * time.Millisecond, 29},
		{200, 285 * time.Millisecond, 57},
		{0, time.Second, 0},
		{-1, time.Second, 0},
		{100, 0, 0},
	}
	for _, c := range cases {
		if got := ScheduleLen(c.rate, c.d); got != c.want {
			t.Errorf("ScheduleLen(%v, %v) = %d, want %d", c.rate, c.d, got, c.want)
		}
	}
}

// TestOpenLoopMeasuresFromTheSchedule stalls the only worker on its first request: every
// request scheduled during the stall must show the wait in its latency (no coordinated
// omission), and none may be dropped. Only lower bounds are asserted, which a slow machine
// cannot break.
func TestOpenLoopMeasuresFromTheSchedule(t *testing.T) {
	const (
		rate  = 200 // one request every 5 ms
		stall = 200 * time.Millisecond
	)
	var calls atomic.Int64
	worker := WorkerFunc(func(context.Context) error {
		if calls.Add(1) == 1 {
			time.Sleep(stall)
		}
		return nil
	})
	res := RunOpenLoop(context.Background(), OpenLoopConfig{Rate: rate, Duration: 400 * time.Millisecond, Workers: []Worker{worker}})
	if want := ScheduleLen(rate, 400*time.Millisecond); res.Count != want || calls.Load() != want {
		t.Fatalf("completed %d, called %d, want every one of the %d scheduled", res.Count, calls.Load(), want)
	}
	// Request k (k < 40) was due at 5k ms and could not start before the stall ended at 200 ms.
	for k := range 30 {
		if min := stall - time.Duration(k)*5*time.Millisecond; res.Latencies[k] < min-time.Millisecond {
			t.Errorf("request %d: latency %v, want at least %v (its wait behind the stall)", k, res.Latencies[k], min)
		}
	}
	// 30 of the 80 requests waited over 50 ms: measured from when they were sent, only the
	// stalled one would have.
	if p := Percentile(res.Latencies, 70); p < 50*time.Millisecond {
		t.Errorf("p70 = %v: the stall is hidden", p)
	}
}

func TestOpenLoopSpreadsOverWorkersAndCountsErrors(t *testing.T) {
	var busy, most atomic.Int64
	worker := WorkerFunc(func(context.Context) error {
		n := busy.Add(1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		time.Sleep(20 * time.Millisecond) // longer than the interval: requests overlap
		busy.Add(-1)
		return context.DeadlineExceeded
	})
	workers := []Worker{worker, worker, worker, worker}
	res := RunOpenLoop(context.Background(), OpenLoopConfig{Rate: 500, Duration: 100 * time.Millisecond, Workers: workers})
	if res.Errors != 50 || res.Count != 0 || res.FirstErr != context.DeadlineExceeded {
		t.Errorf("result %+v, want 50 errors", res)
	}
	if most.Load() < 2 {
		t.Errorf("at most %d requests in flight: the workers did not share the schedule", most.Load())
	}
}
