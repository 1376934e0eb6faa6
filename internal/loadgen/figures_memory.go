package loadgen

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/keys"
)

// memoryFigures measures a fresh RS256 server with the memory store: its resident memory with
// IdleConnections idle keep-alive connections open and FairnessClients clients asking for
// tokens, sampled from /proc for twice the figure duration (or the soak), and with a soak the
// slope of the memory over its second half.
func (s *suite) memoryFigures(ctx context.Context) error {
	peak, slope := s.fig("rss_peak"), s.fig("rss_soak_slope")
	if s.cfg.Soak <= 0 {
		slope.Skip("no soak: run with --soak 10m to judge whether the memory stays flat")
	}
	srv, err := s.startServer(ctx, "memory-rss", ServerConfig{Alg: keys.RS256, Stacks: 1})
	if err != nil {
		return err
	}
	defer srv.Stop()
	// The load lasts twice the figure's duration, or the soak when longer: a short soak must not
	// cut the peak's load to a sample taken before the first token.
	total, interval := max(2*s.cfg.Duration, s.cfg.Soak), rssInterval
	if s.cfg.Soak >= MinSoak {
		interval = soakInterval
	}
	start, err := ReadRSS(srv.Pid)
	if err != nil {
		return err
	}
	s.progress("opening %d idle keep-alive connections to the server", IdleConnections)
	addr := strings.TrimPrefix(srv.URL, "http://")
	idle, err := OpenIdle(ctx, addr, "/healthz", IdleConnections)
	if err != nil {
		return err
	}
	defer idle.Close()
	stop := SampleRSS(ctx, srv.Pid, interval)
	s.progress("measuring rss_peak (%s of %d-client token load, memory sampled every %s)", total, FairnessClients, interval)
	load, err := s.tokenLoad(ctx, srv.Broker, FairnessClients)
	if err != nil {
		_, _ = stop()
		return err
	}
	defer load.Close()
	var counted Result
	reopened := 0
	for left := total; left > 0 && ctx.Err() == nil; left -= refillEvery {
		counted.Add(load.Closed(ctx, min(left, refillEvery)))
		// The first stretch ends before the server's idle timeout (config.DefaultIdleTimeout,
		// over refillEvery): every idle connection must still be open, or the figure did not
		// measure them.
		if left == total && ctx.Err() == nil {
			if held := idle.Open(); held < IdleConnections {
				_, _ = stop()
				return fmt.Errorf("the server closed %d of the %d idle connections within %s, before its idle timeout of %s",
					IdleConnections-held, IdleConnections, min(left, refillEvery), config.DefaultIdleTimeout)
			}
		}
		n, err := idle.Refill(ctx)
		reopened += n
		if err != nil {
			_, _ = stop()
			return err
		}
	}
	samples, err := stop()
	if err != nil {
		return err
	}
	hwm, err := ReadHWM(srv.Pid) // at the end of the measured phase, the server still running
	if err != nil {
		return err
	}
	if err := check("POST /v1/token", counted); err != nil {
		return err
	}
	last := samples[len(samples)-1]
	top, fromHWM := rssPeak(samples, hwm)
	peak.Value, peak.Reference = float64(top)/mib, float64(start)/mib
	peak.Detail = fmt.Sprintf("%d tokens in %s, %d samples, largest %.1f MiB, last %.1f MiB, %d of %d idle connections open at the end (%d reopened after the server's idle timeout); %s",
		counted.Count, counted.Elapsed.Round(time.Millisecond), len(samples), float64(PeakRSS(samples))/mib, float64(last.Bytes)/mib, idle.Open(), IdleConnections, reopened, peakSource(fromHWM, hwm, interval))
	if s.cfg.Soak > 0 {
		fillSoakSlope(slope, samples, s.cfg.Soak)
	}
	return nil
}

// peakSource says which reading rss_peak is: the kernel's high-water mark VmHWM (hwm bytes, over
// the server's whole life, start-up included) or the largest of the samples taken every
// interval, VmHWM being no higher.
func peakSource(fromHWM bool, hwm int64, interval time.Duration) string {
	if fromHWM {
		return fmt.Sprintf("peak is the server's VmHWM, %.1f MiB (the kernel's high-water mark over its whole life, start-up included), above every sample taken every %s", float64(hwm)/mib, interval)
	}
	return fmt.Sprintf("peak is the largest sample taken every %s; the server's VmHWM (over its whole life, start-up included) was %.1f MiB", interval, float64(hwm)/mib)
}

// Bounds of a soak whose slope is judged: the target is a flat memory over a 10-minute soak,
// and a slope drawn through a few samples says nothing of a leak.
const (
	// MinSoak is the shortest soak whose slope is judged.
	MinSoak = 10 * time.Minute
	// MinSoakSamples is the fewest samples the soak's second half must hold to be judged.
	MinSoakSamples = 30
)

// fillSoakSlope fills f with the least-squares slope, in MiB per minute, of the second half of
// samples, taken during a soak of soak. The slope is judged only when the soak lasted at least
// MinSoak (the shorter of soak and the samples' span) and its second half holds at least
// MinSoakSamples samples; otherwise f is reported as not judged, with the reason.
func fillSoakSlope(f *Figure, samples []RSSSample, soak time.Duration) {
	if len(samples) == 0 {
		f.Unjudged("no memory samples")
		return
	}
	half := SecondHalf(samples)
	last := samples[len(samples)-1]
	f.Value = RSSSlope(half) * 60 / mib
	f.Detail = fmt.Sprintf("least-squares slope of %d samples over the last %s of a %s soak", len(half), (last.At - half[0].At).Round(time.Second), soak)
	switch lasted := min(soak, last.At-samples[0].At); {
	case lasted < MinSoak:
		f.Unjudged(fmt.Sprintf("the soak lasted %s, and the slope is judged only over a soak of at least %s (--soak %s)", lasted.Round(time.Second), MinSoak, MinSoak))
	case len(half) < MinSoakSamples:
		f.Unjudged(fmt.Sprintf("the soak's second half holds %d samples, and the slope is judged only on %d or more", len(half), MinSoakSamples))
	}
}
