package loadgen

import (
	"context"
	"time"
)

// HTTPLoad sends one HTTPRequest over a fixed set of keep-alive connections, in a closed loop or
// on an open-loop schedule. Its connections persist between runs, so a warm-up run opens them
// for the measured ones. An HTTPLoad runs one loop at a time.
type HTTPLoad interface {
	// Closed keeps every connection busy, each sending its next request as soon as its previous
	// one is answered, until d has passed; requests in flight then are completed and counted,
	// not cut, so no connection is lost. It stops early when ctx ends, without counting the
	// requests it cut.
	Closed(ctx context.Context, d time.Duration) Result
	// Open sends the requests of s on its schedule, each on an idle connection (a request due
	// while every connection is busy waits for one), and measures each latency from the time
	// the request was due: the schedule is the clock. It stops early when ctx ends.
	Open(ctx context.Context, s Schedule) Result
	// Close closes the connections.
	Close()
}

// Schedule is an open loop's fixed schedule.
type Schedule struct {
	// Rate is the requests per second.
	Rate float64
	// Duration is the schedule's length: ScheduleLen(Rate, Duration) requests are sent.
	Duration time.Duration
}

// loadConfig configures an HTTPLoad.
type loadConfig struct {
	// clients is the number of connections.
	clients int
	req     HTTPRequest
	// timeout bounds each dial and each request: a request unanswered for that long is an
	// error and its connection is closed.
	timeout time.Duration
}

// NewHTTPLoad returns a load of n connections sending req: one event loop on a single thread
// for plain http on Linux, so the driver takes as little as possible of the cores it shares
// with the server; else one goroutine per connection (NewHTTPWorkers). Every side of a
// comparison must use the same driver, so each makes its HTTPLoad here.
func NewHTTPLoad(n int, req HTTPRequest) HTTPLoad {
	cfg := loadConfig{clients: n, req: req, timeout: requestTimeout}
	if l := newEventLoad(cfg); l != nil {
		return l
	}
	return newWorkerLoad(cfg)
}

// workerLoad is an HTTPLoad over goroutine workers.
type workerLoad struct {
	workers []Worker
	loop    *ClosedLoop
}

// newWorkerLoad returns cfg's load driven by one goroutine per connection.
func newWorkerLoad(cfg loadConfig) HTTPLoad {
	ws := newHTTPWorkers(cfg)
	return &workerLoad{workers: ws, loop: NewClosedLoop(ws)}
}

// Closed runs the workers' closed loop.
func (w *workerLoad) Closed(ctx context.Context, d time.Duration) Result { return w.loop.Run(ctx, d) }

// Open runs s on the workers.
func (w *workerLoad) Open(ctx context.Context, s Schedule) Result {
	return RunOpenLoop(ctx, OpenLoopConfig{Rate: s.Rate, Duration: s.Duration, Workers: w.workers})
}

// Close closes the workers' connections.
func (w *workerLoad) Close() { CloseWorkers(w.workers) }
