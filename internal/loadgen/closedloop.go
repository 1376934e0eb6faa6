package loadgen

import (
	"context"
	"sync"
	"time"
)

// ClosedLoop keeps a fixed set of workers busy: each sends its next request as soon as its
// previous one is answered. The workers persist between runs, so their keep-alive connections
// do too.
type ClosedLoop struct {
	workers []Worker
}

// NewClosedLoop returns a closed loop over workers, one client each.
func NewClosedLoop(workers []Worker) *ClosedLoop { return &ClosedLoop{workers: workers} }

// Run drives every worker until d has passed (a request in flight then is completed and
// counted, not cut, so no connection is lost) and returns the count, the errors and the latency
// of every request. It stops early when ctx ends.
func (c *ClosedLoop) Run(ctx context.Context, d time.Duration) Result {
	start := time.Now()
	deadline := start.Add(d)
	results := make([]Result, len(c.workers))
	var wg sync.WaitGroup
	for i, w := range c.workers {
		wg.Go(func() {
			res := &results[i]
			for ctx.Err() == nil {
				t0 := time.Now()
				if !t0.Before(deadline) {
					return
				}
				err := w.Do(ctx)
				lat := time.Since(t0)
				if err != nil {
					if ctx.Err() != nil {
						return // cut short by the caller: neither a success nor a server error
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
	wg.Wait()
	total := Result{}
	for _, r := range results {
		total.Add(r)
	}
	total.Elapsed = time.Since(start)
	return total
}
