package catalog

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// freshness is the read a Manager makes when a caller needs the catalog current and it was
// last confirmed longer than MaxStale ago: one read at a time, whose outcome every caller
// waiting meanwhile shares, so that an unreachable store costs each request at most one wait.
type freshness struct {
	mu     sync.Mutex
	flight *flight
}

// flight is one read in progress; err is set before done closes.
type flight struct {
	done chan struct{}
	err  error
}

// errStillStale: the store was read, but moved while it was, so the catalog in force is not
// yet its state; the next refresh takes it.
var errStillStale = errors.New("the store changed while it was read")

// Current returns nil when the catalog in force was found current with the store within
// MaxStale; otherwise it reads the store (see Refresh), or waits for the read another caller
// started, and returns nil when that read confirmed it. Its error is ErrUnavailable.
// Authentication by API key calls it, so that a replica cut off from its store stops taking a
// key another replica deleted, and takes keys again as soon as it reads the store.
func (m *Manager) Current(ctx context.Context) error {
	if m.live.Stale(MaxStale) == 0 {
		return nil
	}
	m.fresh.mu.Lock()
	f := m.fresh.flight
	if f == nil {
		f = &flight{done: make(chan struct{})}
		m.fresh.flight = f
		go func() {
			// Not the caller's context: its read serves the callers after it too. The store
			// bounds each of its calls by its own timeout.
			err := m.Refresh(context.WithoutCancel(ctx))
			if err == nil && m.live.Stale(MaxStale) > 0 {
				err = errStillStale
			}
			f.err = err
			m.fresh.mu.Lock()
			m.fresh.flight = nil
			m.fresh.mu.Unlock()
			close(f.done)
		}()
	}
	m.fresh.mu.Unlock()
	select {
	case <-f.done:
		if f.err != nil {
			return fmt.Errorf("%w: the catalog could not be read from the store: %w", ErrUnavailable, f.err)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%w: %w", ErrUnavailable, ctx.Err())
	}
}
