package loadgen

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestOpenLoopKeepsToItsSchedule pins that an open loop sends no request before it is due
// (request k at Offset(k) from the start), however many workers are idle, and that its result
// carries the schedule's wall time.
// Guards against: openloop.go:RunOpenLoop the wait for a request's due time skipped
// Guards against: openloop.go:RunOpenLoop total.Elapsed not set
func TestOpenLoopKeepsToItsSchedule(t *testing.T) {
	const rate = 100.0
	var (
		mu    sync.Mutex
		calls []time.Duration
	)
	begin := time.Now() // before the loop's start: every due time is at least Offset(k) after it
	w := WorkerFunc(func(context.Context) error {
		mu.Lock()
		calls = append(calls, time.Since(begin))
		mu.Unlock()
		return nil
	})
	workers := []Worker{w, w, w, w, w, w, w, w}
	res := RunOpenLoop(context.Background(), OpenLoopConfig{Rate: rate, Duration: 200 * time.Millisecond, Workers: workers})
	n := ScheduleLen(rate, 200*time.Millisecond)
	if res.Count != n || int64(len(calls)) != n {
		t.Fatalf("completed %d, called %d, want %d", res.Count, len(calls), n)
	}
	// Calls may complete out of order over several workers: the k-th earliest call is not before
	// request k was due.
	mu.Lock()
	defer mu.Unlock()
	sorted := append([]time.Duration(nil), calls...)
	for i := 1; i < len(sorted); i++ {
		for j := i; j > 0 && sorted[j] < sorted[j-1]; j-- {
			sorted[j], sorted[j-1] = sorted[j-1], sorted[j]
		}
	}
	for k, at := range sorted {
		if due := Offset(int64(k), rate); at < due {
			t.Errorf("request %d sent at %v, before it was due at %v", k, at, due)
		}
	}
	if last := Offset(n-1, rate); res.Elapsed < last {
		t.Errorf("elapsed %v, want at least the last request's due time %v", res.Elapsed, last)
	}
}

// TestOpenLoopStopsSendingWhenCancelled pins that once its context ends an open loop sends
// none of the requests still to come on its schedule.
// Guards against: openloop.go:RunOpenLoop ctx.Err() check before handing out a due request dropped
func TestOpenLoopStopsSendingWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var calls atomic.Int64
	w := WorkerFunc(func(context.Context) error {
		if calls.Add(1) == 3 {
			cancel()
		}
		return nil
	})
	RunOpenLoop(ctx, OpenLoopConfig{Rate: 100, Duration: time.Second, Workers: []Worker{w}})
	if n := calls.Load(); n > 10 {
		t.Errorf("%d of the 100 scheduled requests sent after the context ended at the third", n)
	}
}

// TestInterleaveStopsBetweenMeasures pins that a context ending during the first measure of
// a round stops the interleave before the second.
// Guards against: result.go:Interleave ctx.Err() check between a and b dropped
func TestInterleaveStopsBetweenMeasures(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var bCalls int
	a := func(context.Context, time.Duration) Result { cancel(); return Result{Count: 1} }
	b := func(context.Context, time.Duration) Result { bCalls++; return Result{Count: 1} }
	ra, rb := Interleave(ctx, Alternation{Duration: time.Second, Rounds: 4}, a, b)
	if bCalls != 0 || ra.Count != 1 || rb.Count != 0 {
		t.Errorf("b called %d times, a counted %d, b %d; want a once and b never", bCalls, ra.Count, rb.Count)
	}
}

// TestPeakRSSIsTheLargestSample pins that the peak is the largest sample wherever it lies,
// not the last.
// Guards against: rss.go:PeakRSS max(peak, s.Bytes) -> s.Bytes
func TestPeakRSSIsTheLargestSample(t *testing.T) {
	if got := PeakRSS([]RSSSample{{Bytes: 10}, {Bytes: 70 << 20}, {Bytes: 20}}); got != 70<<20 {
		t.Errorf("PeakRSS = %d, want %d", got, 70<<20)
	}
}
