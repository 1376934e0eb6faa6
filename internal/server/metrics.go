package server

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
)

// registerMetrics registers the gauges read from the replica's state at scrape time (the age
// of the default signing key, the generations of the key set and of the catalog) and, when the
// state is in Redis, broker_redis_errors_total.
func (s *Server) registerMetrics(reg prometheus.Registerer, now func() time.Time) {
	redisErrors := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "broker_redis_errors_total",
		Help: "Redis commands and pipelines that failed, unreachable server included (a missing key or a lost optimistic transaction is not a failure).",
	})
	reg.MustRegister(redisErrors)
	if s.state.redis != nil {
		s.state.redis.Redis().AddHook(redisErrorHook{redisErrors})
	}
	if w := s.state.eviction; w != nil {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "broker_redis_evicts_any_key",
			Help: "1 when the last check found maxmemory set with an allkeys-* maxmemory-policy on a Redis primary, which may evict the audit chain, the catalog and the key set; 0 otherwise.",
		}, func() float64 {
			if w.Unsafe() {
				return 1
			}
			return 0
		}))
	}
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "broker_signing_key_age_seconds",
			Help: "Age of the key that signs by default, from its creation; 0 when none is active.",
		}, func() float64 {
			snap := s.keys.Snapshot()
			if snap == nil || snap.Signing.Signer == nil || snap.Signing.Created.IsZero() {
				return 0
			}
			return now().Sub(snap.Signing.Created).Seconds()
		}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "broker_signing_keys_generation",
			Help: "Generation of the key set in force on this replica (it grows by one with every change).",
		}, func() float64 {
			if snap := s.keys.Snapshot(); snap != nil {
				return float64(snap.Generation)
			}
			return 0
		}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "broker_catalog_revision",
			Help: "Store revision of the catalog in force on this replica (it grows by one with every administration change).",
		}, func() float64 { return float64(s.catalog.Live().Load().Revision()) }),
	)
}

// redisErrorHook counts the Redis calls that fail.
type redisErrorHook struct{ errors prometheus.Counter }

// failed reports whether cmd failed: not a missing key (redis.Nil), a lost optimistic
// transaction, the caller's cancellation, a script not yet cached (NOSCRIPT, which the client
// answers by sending it) or a CLIENT SETINFO an older server does not know (which the client
// ignores).
func failed(cmd redis.Cmder) bool { return failedWith(cmd, cmd.Err()) }

// failedWith is failed for cmd ending with err (a dial failure is returned without being set
// on the command).
func failedWith(cmd redis.Cmder, err error) bool {
	switch {
	case err == nil, errors.Is(err, redis.Nil), errors.Is(err, redis.TxFailedErr), errors.Is(err, context.Canceled),
		redis.HasErrorPrefix(err, "NOSCRIPT"):
		return false
	case cmd.Name() == "client" && len(cmd.Args()) > 1 && strings.EqualFold(fmt.Sprint(cmd.Args()[1]), "setinfo"):
		return false
	}
	return true
}

// DialHook implements redis.Hook; a failed dial is counted by the command that needed it.
func (h redisErrorHook) DialHook(next redis.DialHook) redis.DialHook { return next }

// ProcessHook implements redis.Hook: one failed command counts one.
func (h redisErrorHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		if err == nil {
			err = cmd.Err()
		}
		if failedWith(cmd, err) {
			h.errors.Inc()
		}
		return err
	}
}

// ProcessPipelineHook implements redis.Hook: a pipeline or transaction with a failed command
// counts one.
func (h redisErrorHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		if slices.ContainsFunc(cmds, failed) || len(cmds) > 0 && failedWith(cmds[0], err) {
			h.errors.Inc()
		}
		return err
	}
}
