package loadgen

import (
	"context"
	"fmt"
	"strings"
	"time"

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
	total, interval := 2*s.cfg.Duration, rssInterval
	if s.cfg.Soak > 0 {
		total, interval = s.cfg.Soak, soakInterval
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
	if err := check("POST /v1/token", counted); err != nil {
		return err
	}
	last := samples[len(samples)-1]
	peak.Value, peak.Reference = float64(PeakRSS(samples))/mib, float64(start)/mib
	peak.Detail = fmt.Sprintf("%d tokens in %s, %d samples, last %.1f MiB, %d of %d idle connections open at the end (%d reopened after the server's idle timeout)",
		counted.Count, counted.Elapsed.Round(time.Millisecond), len(samples), float64(last.Bytes)/mib, idle.Open(), IdleConnections, reopened)
	if s.cfg.Soak > 0 {
		half := SecondHalf(samples)
		slope.Value = RSSSlope(half) * 60 / mib
		slope.Detail = fmt.Sprintf("least-squares slope of %d samples over the last %s of a %s soak", len(half), (last.At - half[0].At).Round(time.Second), total)
	}
	return nil
}
