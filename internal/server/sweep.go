package server

import (
	"context"
	"log/slog"
	"time"

	"github.com/brokerhq/broker/internal/redisstore"
)

// DefaultSweepInterval is how often a replica with the in-memory run store drops expired runs.
const DefaultSweepInterval = time.Minute

// sweepRuns calls sweep on every tick until ctx ends. The in-memory run store removes an expired
// run only when it is touched again; without this, runs nobody asks for after they expire would
// stay in memory for the life of the process.
func sweepRuns(ctx context.Context, ticks <-chan time.Time, sweep func() int, log *slog.Logger) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticks:
			if n := sweep(); n > 0 {
				log.Debug("runs: dropped expired runs from memory", "count", n)
			}
		}
	}
}

// startSweeping runs sweepRuns on a ticker of the replica's interval when its run store needs
// it, until ctx ends.
func (s *Server) startSweeping(ctx context.Context) {
	if s.state.sweep == nil {
		return
	}
	ticker := time.NewTicker(s.sweepEvery)
	go func() {
		defer ticker.Stop()
		sweepRuns(ctx, ticker.C, s.state.sweep, s.log)
	}()
}

// startEvictionWatch checks the eviction policy of store.redis on a ticker of the replica's
// interval until ctx ends; nothing without Redis.
func (s *Server) startEvictionWatch(ctx context.Context) {
	if s.state.eviction == nil {
		return
	}
	every := s.evictionEvery
	if every <= 0 {
		every = redisstore.EvictionRecheck
	}
	ticker := time.NewTicker(every)
	go func() {
		defer ticker.Stop()
		s.state.eviction.Run(ctx, ticker.C)
	}()
}
