package loadgen

import (
	"context"
	"fmt"
	"runtime"
	"time"
)

// fairness fills f with the p99 and p50 latency of FairnessClients closed-loop token clients
// on b: a p99 far above the p50 means some connections starve.
func (s *suite) fairness(ctx context.Context, b Broker, f *Figure) error {
	s.progress("measuring %s (%s)", f.ID, s.cfg.Duration)
	load, err := s.tokenLoad(ctx, b, FairnessClients)
	if err != nil {
		return err
	}
	defer load.Close()
	res := load.Closed(ctx, s.cfg.Duration)
	if err := check("POST /v1/token", res); err != nil {
		return err
	}
	p := percentiles(res.Latencies, 50, 99, 100)
	f.Value, f.Reference = ms(p[1]), ms(p[0])
	f.Ratio = f.Value / f.Reference
	f.Detail = fmt.Sprintf("%d tokens at %.0f tokens/s, max %s", res.Count, res.Rate(), p[2].Round(time.Microsecond))
	return nil
}

// openLoopTarget is the server an open loop measures.
type openLoopTarget struct {
	broker Broker
	// store names the server's store ("memory", "redis"): the open loop runs at half the
	// saturated rate measured on it in this run.
	store string
	// storePid is the process id of the store's own server (redis-server), 0 for none.
	storePid int
}

// openLoop fills f with the p99 latency, measured from each request's scheduled time, of token
// requests on t's server scheduled at half the closed-loop rate measured on its store in this
// run, and describes the CPU each request cost, how busy the machine's cores were, and the same
// schedule's latency for raw signatures alone.
func (s *suite) openLoop(ctx context.Context, t openLoopTarget, f *Figure) error {
	sat := s.saturated[t.store]
	if sat.rate <= 0 {
		return fmt.Errorf("no saturated token rate was measured on the %s store in this run", t.store)
	}
	saturated, rate := sat.rate, sat.rate/2
	s.progress("measuring %s (%s at %.0f req/s)", f.ID, s.cfg.Duration, rate)
	load, err := s.tokenLoad(ctx, t.broker, OpenLoopWorkers) // its warm-up opens every connection before the schedule starts
	if err != nil {
		return err
	}
	defer load.Close()
	cpu := startCPUs(map[string]int{"server": t.broker.Pid, "redis-server": t.storePid})
	busy := startMachineBusy()
	res := load.Open(ctx, Schedule{Rate: rate, Duration: s.cfg.Duration})
	busyShare := busy.String()
	if err := check("POST /v1/token", res); err != nil {
		return err
	}
	want := ScheduleLen(rate, s.cfg.Duration)
	if res.Count != want && ctx.Err() == nil {
		return fmt.Errorf("the open loop completed %d of its %d scheduled requests", res.Count, want)
	}
	p := percentiles(res.Latencies, 50, 99, 99.9, 100)
	f.Value, f.Reference = ms(p[1]), rate
	f.Detail = fmt.Sprintf("%d requests on %d connections, half of %.0f tokens/s; latency from the scheduled time p50 %s p99.9 %s max %s",
		res.Count, OpenLoopWorkers, saturated, p[0].Round(time.Microsecond), p[2].Round(time.Microsecond), p[3].Round(time.Microsecond))
	if per := cpu.perOp(res.Count); per != "" {
		f.Detail += "; CPU per request: " + per
	}
	if busyShare != "" {
		f.Detail += "; " + busyShare
	}
	alone, err := s.signingOnSchedule(ctx, sat.alg, rate)
	if err != nil {
		return err
	}
	f.Detail += "; " + alone
	return nil
}

// signingOnSchedule runs raw signatures of alg on an open loop's schedule at rate, in this
// process while the server idles, and describes their latency from the scheduled time: what
// the machine alone makes of the schedule, with no network, HTTP or store in the way.
func (s *suite) signingOnSchedule(ctx context.Context, alg string, rate float64) (string, error) {
	signer, ok := s.signers[alg]
	if !ok {
		return "", fmt.Errorf("no raw signer for %s", alg)
	}
	workers := signer.Workers()
	// The schedule's goroutine gets a processor of its own, as the load driver has one (its own
	// thread, in its own process) beside the server: otherwise it waits for a signature to end
	// (Go does not preempt one) before it hands out a due request.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(len(workers) + 1))
	s.progress("measuring raw %s signing on the same schedule (%s at %.0f signs/s)", alg, s.cfg.Duration, rate)
	busy := startMachineBusy()
	res := RunOpenLoop(ctx, OpenLoopConfig{Rate: rate, Duration: s.cfg.Duration, Workers: workers})
	busyShare := busy.String()
	if err := check("raw signing on the schedule", res); err != nil {
		return "", err
	}
	p := percentiles(res.Latencies, 50, 99, 99.9)
	alone := fmt.Sprintf("raw %s signing alone on the same schedule (%d at once, in the load program): p50 %s p99 %s p99.9 %s",
		alg, len(workers), p[0].Round(time.Microsecond), p[1].Round(time.Microsecond), p[2].Round(time.Microsecond))
	if busyShare != "" {
		alone += ", " + busyShare
	}
	return alone, nil
}
