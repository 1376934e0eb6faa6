package loadgen

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/brokerhq/broker/keys"
)

// warmup is how long a loop runs unmeasured first, to open its connections and grow the heaps.
func (s *suite) warmup() time.Duration {
	return min(max(s.cfg.Duration/5, 100*time.Millisecond), time.Second)
}

// check turns the errors a measurement counted, or the rejection of its answers as a whole
// (Result.Rejected), into one error.
func check(what string, r Result) error {
	if r.Errors == 0 {
		if r.Count == 0 {
			return fmt.Errorf("%s: nothing completed", what)
		}
		if r.Rejected != nil {
			return fmt.Errorf("%s: %d answers counted, and then rejected: %w", what, r.Count, r.Rejected)
		}
		return nil
	}
	return fmt.Errorf("%s: %d of %d requests failed, the first: %w", what, r.Errors, r.Errors+r.Count, r.FirstErr)
}

// measure runs fn and marks f with its error, if any.
func measure(f *Figure, fn func() error) {
	if err := fn(); err != nil {
		f.Fail(err)
	}
}

// tokenLoad creates a run on b and returns a load of clients connections asking for tokens
// with its run token, warmed up by a closed loop; the caller closes it. Each of its runs
// verifies a sample of its tokens against b's JWKS (verifiedLoad), so a figure counting
// tokens never counts forged or replayed ones.
func (s *suite) tokenLoad(ctx context.Context, b Broker, clients int) (HTTPLoad, error) {
	runToken, err := b.NewRun(ctx)
	if err != nil {
		return nil, err
	}
	load, err := newVerifiedTokenLoad(ctx, b, clients, runToken)
	if err != nil {
		return nil, err
	}
	if err := check("warm-up", load.Closed(ctx, s.warmup())); err != nil {
		load.Close()
		return nil, err
	}
	return load, nil
}

// tokenRate fills f with b's closed-loop token rate against the raw signing rate of alg,
// alternating, and returns the token rate.
func (s *suite) tokenRate(ctx context.Context, b Broker, alg string, f *Figure) (float64, error) {
	s.progress("measuring %s (%s, and as long for raw %s signing)", f.ID, s.cfg.Duration, alg)
	b.Alg = alg
	load, err := s.tokenLoad(ctx, b, s.cfg.Clients)
	if err != nil {
		return 0, err
	}
	defer load.Close()
	got, ref := Interleave(ctx, Alternation{Duration: s.cfg.Duration, Rounds: rounds}, WithCPU(load.Closed, b.Pid), WithCPU(s.signers[alg].Run, 0))
	if err := check("POST /v1/token", got); err != nil {
		return 0, err
	}
	if err := check("raw signing", ref); err != nil {
		return 0, err
	}
	s.refs[alg].Add(ref)
	f.Value, f.Reference = got.Rate(), ref.Rate()
	f.Ratio = f.Value / f.Reference
	f.CPU = cpuCost(got, ref, refOnDriver)
	p := percentiles(got.Latencies, 50, 99)
	f.Detail = fmt.Sprintf("%d tokens in %s, latency p50 %s p99 %s", got.Count, got.Elapsed.Round(time.Millisecond), p[0].Round(time.Microsecond), p[1].Round(time.Microsecond))
	return f.Value, nil
}

// memoryRS256 measures, on one RS256 server with the memory store, the token rate, the public
// documents, fairness and the open loop.
func (s *suite) memoryRS256(ctx context.Context) error {
	srv, err := s.startServer(ctx, "memory-rs256", ServerConfig{Alg: keys.RS256, Stacks: 1})
	if err != nil {
		return err
	}
	defer srv.Stop()
	s.serverFigures(ctx, srv.Broker, keys.RS256, "memory")
	return nil
}

// serverFigures measures on b, whose store is store, the token rate of alg, the public
// documents, fairness and the open loop.
func (s *suite) serverFigures(ctx context.Context, b Broker, alg, store string) {
	f := s.fig("token_" + lower(alg) + "_" + store)
	measure(f, func() error {
		rate, err := s.tokenRate(ctx, b, alg, f)
		s.saturated[store] = saturation{rate: rate, alg: alg}
		return err
	})
	s.publicFigures(ctx, b)
	fair := s.fig("fairness_64_" + store)
	measure(fair, func() error { return s.fairness(ctx, b, fair) })
	open := s.fig("open_loop_" + store)
	measure(open, func() error { return s.openLoop(ctx, openLoopTarget{broker: b, store: store}, open) })
}

// memoryES256 measures the ES256 token rate with the memory store.
func (s *suite) memoryES256(ctx context.Context) error {
	srv, err := s.startServer(ctx, "memory-es256", ServerConfig{Alg: keys.ES256, Stacks: 1})
	if err != nil {
		return err
	}
	defer srv.Stop()
	f := s.fig("token_es256_memory")
	measure(f, func() error { _, err := s.tokenRate(ctx, srv.Broker, keys.ES256, f); return err })
	return nil
}

// redisFigures measures both algorithms' token rates and the open loop on Redis, in a private
// redis-server; they are skipped, visibly, when redis-server is not installed.
func (s *suite) redisFigures(ctx context.Context) error {
	ids := []string{"token_rs256_redis", "token_es256_redis", "open_loop_redis"}
	s.progress("starting redis-server")
	rs, err := StartRedis(ctx, s.serverDir("redis"))
	if errors.Is(err, ErrNotInstalled) {
		for _, id := range ids {
			s.fig(id).Skip("redis-server is not on PATH: install Redis to measure the Redis store")
		}
		s.note("SKIPPED: the Redis figures (redis-server is not on PATH)")
		return nil
	}
	if err != nil {
		return err
	}
	defer rs.Stop()
	for db, alg := range []string{keys.RS256, keys.ES256} {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		srv, err := s.startServer(ctx, "redis-"+lower(alg), ServerConfig{Alg: alg, RedisURL: rs.URL(db), Stacks: 1})
		if err != nil {
			return err
		}
		f := s.fig("token_" + lower(alg) + "_redis")
		measure(f, func() error {
			rate, err := s.tokenRate(ctx, srv.Broker, alg, f)
			if alg == keys.RS256 {
				s.saturated["redis"] = saturation{rate: rate, alg: alg}
			}
			return err
		})
		if alg == keys.RS256 {
			open := s.fig("open_loop_redis")
			measure(open, func() error {
				return s.openLoop(ctx, openLoopTarget{broker: srv.Broker, store: "redis", storePid: rs.Pid()}, open)
			})
		}
		srv.Stop()
	}
	return nil
}

// finishReferences fills the raw signing figures from every reference segment of the run,
// measuring an algorithm on its own when no figure used it, unless ctx has ended: an
// interrupted run measures nothing more, and the figure is left for Run to mark not measured.
func (s *suite) finishReferences(ctx context.Context) {
	for _, alg := range []string{keys.RS256, keys.ES256} {
		f := s.fig("raw_sign_" + lower(alg))
		ref := s.refs[alg]
		if ref.Count == 0 && f.Status == "" {
			if ctx.Err() != nil {
				continue
			}
			if !s.selected([]string{f.ID}) {
				f.Skip("not selected (--only), and no figure selected needed it")
				continue
			}
			s.progress("measuring raw %s signing (%s)", alg, s.cfg.Duration)
			*ref = s.signers[alg].Run(ctx, s.cfg.Duration)
		}
		if err := check("raw signing", *ref); err != nil {
			f.Fail(err)
			continue
		}
		f.Value = ref.Rate()
		f.Detail = fmt.Sprintf("%d signatures in %s on %d goroutines, the sum of every reference segment of the run", ref.Count, ref.Elapsed.Round(time.Millisecond), s.signers[alg].procs)
	}
}

// lower is the lower case of an algorithm name, as figure ids use it.
func lower(alg string) string {
	switch alg {
	case keys.RS256:
		return "rs256"
	case keys.ES256:
		return "es256"
	}
	return alg
}
