package api

import (
	"context"
	"sync"
	"time"

	"github.com/brokerhq/broker/internal/apierror"
)

// sharedCheck runs the readiness pings of the dependencies at most once at a time: a probe that
// arrives while a check runs waits for that check and answers its result. /readyz needs no
// credential, so without it a flood of probes would cost the store and the key service one ping
// each; with it, one ping in flight per replica, however many probes wait.
//
// A probe answers the check in flight when it arrives or one it starts, never a check that had
// ended before it arrived: a dependency's outage or return shows in the next probe.
type sharedCheck struct {
	// run pings the dependencies, nil when all answer.
	run func(context.Context) *apierror.Error
	// timeout bounds one check, whichever probe started it and whether or not that probe waits.
	timeout time.Duration

	mu      sync.Mutex
	running *checkRun
}

// checkRun is one check in flight; err is set before done closes.
type checkRun struct {
	done chan struct{}
	err  *apierror.Error
}

// result answers the check in flight, or one started for this probe, nil when every dependency
// answered. A probe whose context ends first gets its own 503; the check goes on for the others.
func (c *sharedCheck) result(ctx context.Context) *apierror.Error {
	c.mu.Lock()
	run := c.running
	if run == nil {
		run = &checkRun{done: make(chan struct{})}
		c.running = run
		// The check outlives the probe that started it (others may wait for it) but keeps its
		// values, such as the request id its log lines name.
		go c.check(context.WithoutCancel(ctx), run)
	}
	c.mu.Unlock()
	select {
	case <-run.done:
		return run.err
	case <-ctx.Done():
		return apierror.New(apierror.CodeUnavailable, "The readiness check did not finish.")
	}
}

func (c *sharedCheck) check(ctx context.Context, run *checkRun) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	run.err = c.run(ctx)
	c.mu.Lock()
	c.running = nil
	c.mu.Unlock()
	close(run.done)
}
