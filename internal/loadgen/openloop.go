package loadgen

import (
	"context"
	"sync"
	"time"
)

// OpenLoopConfig configures an open-loop run.
type OpenLoopConfig struct {
	// Rate is the requests per second of the schedule.
	Rate float64
	// Duration is the schedule's length: Rate × Duration requests are sent.
	Duration time.Duration
	// Workers send the requests, one at a time each; a request due while every worker is busy
	// waits for one, and that wait counts in its latency.
	Workers []Worker
}

// Offset is when the i-th request (from 0) of a schedule at rate per second is due, counted
// from the schedule's start. It is computed from i, not by adding intervals, so it does not
// drift.
func Offset(i int64, rate float64) time.Duration {
	return time.Duration(float64(i) * float64(time.Second) / rate)
}

// ScheduleLen is how many requests a schedule at rate per second holds in d: the whole part of
// rate × d. It multiplies by d's nanoseconds, which a float64 holds exactly, and divides once,
// so that a product such as 100/s × 0.29 s is 29, not the 28.999… of rate × d.Seconds().
func ScheduleLen(rate float64, d time.Duration) int64 {
	if rate <= 0 || d <= 0 {
		return 0
	}
	return int64(rate * float64(d) / float64(time.Second))
}

// RunOpenLoop sends requests on a fixed schedule and measures each latency from the time the
// request was due, not from when a worker got to send it: the schedule is the clock, so a stall
// of the server (or of the driver) shows in every request it delayed (no coordinated omission).
// It stops early when ctx ends.
func RunOpenLoop(ctx context.Context, cfg OpenLoopConfig) Result {
	n := ScheduleLen(cfg.Rate, cfg.Duration)
	due := make(chan time.Time, n) // never blocks the schedule
	results := make([]Result, len(cfg.Workers))
	var wg sync.WaitGroup
	for i, w := range cfg.Workers {
		wg.Go(func() {
			res := &results[i]
			for at := range due {
				err := w.Do(ctx)
				lat := time.Since(at)
				if err != nil {
					if ctx.Err() != nil {
						continue
					}
					res.Errors++
					if res.FirstErr == nil {
						res.FirstErr = err
					}
					continue
				}
				res.Count++
				res.Latencies = append(res.Latencies, lat)
			}
		})
	}
	start := time.Now()
	timer := time.NewTimer(0)
	<-timer.C
	for i := range n {
		at := start.Add(Offset(i, cfg.Rate))
		if wait := time.Until(at); wait > 0 {
			timer.Reset(wait)
			select {
			case <-timer.C:
			case <-ctx.Done():
			}
		}
		if ctx.Err() != nil {
			break
		}
		due <- at
	}
	close(due)
	wg.Wait()
	total := Result{}
	for _, r := range results {
		total.Add(r)
	}
	total.Elapsed = time.Since(start)
	return total
}
