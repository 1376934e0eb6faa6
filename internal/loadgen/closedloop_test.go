package loadgen

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

func TestClosedLoopCountsEveryRequestAndError(t *testing.T) {
	var calls [3]atomic.Int64
	boom := errors.New("boom")
	workers := make([]Worker, 3)
	for i := range workers {
		workers[i] = WorkerFunc(func(context.Context) error {
			n := calls[i].Add(1)
			time.Sleep(time.Millisecond)
			if i == 2 && n%2 == 0 {
				return boom // worker 2 fails every other request
			}
			return nil
		})
	}
	loop := NewClosedLoop(workers)
	res := loop.Run(context.Background(), 50*time.Millisecond)
	total := calls[0].Load() + calls[1].Load() + calls[2].Load()
	if res.Count+res.Errors != total {
		t.Errorf("counted %d + %d errors, the workers made %d calls", res.Count, res.Errors, total)
	}
	if res.Errors != calls[2].Load()/2 || !errors.Is(res.FirstErr, boom) {
		t.Errorf("errors = %d (first %v), want %d of boom", res.Errors, res.FirstErr, calls[2].Load()/2)
	}
	if int64(len(res.Latencies)) != res.Count {
		t.Errorf("%d latencies for %d requests", len(res.Latencies), res.Count)
	}
	for i := range calls {
		if calls[i].Load() == 0 {
			t.Errorf("worker %d never ran", i)
		}
	}
	if res.Elapsed < 50*time.Millisecond {
		t.Errorf("elapsed %v, shorter than the run", res.Elapsed)
	}
	for _, l := range res.Latencies {
		if l < time.Millisecond {
			t.Fatalf("latency %v is shorter than the request", l)
		}
	}
}

func TestClosedLoopStopsWithItsContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	worker := WorkerFunc(func(ctx context.Context) error {
		cancel()
		<-ctx.Done()
		return ctx.Err()
	})
	done := make(chan Result)
	go func() { done <- NewClosedLoop([]Worker{worker}).Run(ctx, time.Hour) }()
	select {
	case res := <-done:
		if res.Errors != 0 || res.Count != 0 {
			t.Errorf("a request cut by the caller was counted: %+v", res)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
}
