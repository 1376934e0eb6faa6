package loadgen

import (
	"context"
	"errors"
	"math"
	"os"
	"strings"
	"testing"
	"time"
)

func TestParseVmRSS(t *testing.T) {
	cases := []struct {
		name   string
		status string
		want   int64
		err    error
	}{
		{"kernel layout", "Name:\tbroker\nVmPeak:\t  900000 kB\nVmRSS:\t   12345 kB\nRssAnon:\t 1 kB\n", 12345 * 1024, nil},
		{"zero", "VmRSS:\t0 kB\n", 0, nil},
		{"missing (a kernel thread)", "Name:\tkthreadd\nState:\tS\n", 0, ErrNoRSS},
		{"not kB", "VmRSS:\t12 MB\n", 0, ErrNoRSS},
		{"not a number", "VmRSS:\tlots kB\n", 0, ErrNoRSS},
		{"negative", "VmRSS:\t-4 kB\n", 0, ErrNoRSS},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := parseVmRSS(strings.NewReader(c.status))
			if !errors.Is(err, c.err) || got != c.want {
				t.Errorf("parseVmRSS = %d, %v; want %d, %v", got, err, c.want, c.err)
			}
		})
	}
}

func TestReadRSSOfThisProcess(t *testing.T) {
	rss, err := ReadRSS(os.Getpid())
	if err != nil {
		t.Skipf("SKIPPED: no /proc here: %v", err)
	}
	if rss < 1<<20 {
		t.Errorf("this process's RSS is %d bytes, less than 1 MiB", rss)
	}
	if _, err := ReadRSS(-1); err == nil {
		t.Error("no error for a process that cannot exist")
	}
}

func samplesOf(f func(sec float64) float64, n int, step time.Duration) []RSSSample {
	out := make([]RSSSample, n)
	for i := range out {
		at := time.Duration(i) * step
		out[i] = RSSSample{At: at, Bytes: int64(f(at.Seconds()))}
	}
	return out
}

func TestRSSSlopeAndPeak(t *testing.T) {
	cases := []struct {
		name      string
		samples   []RSSSample
		slope     float64 // bytes per second
		peak      int64
		tolerance float64
	}{
		{"none", nil, 0, 0, 0},
		{"one", []RSSSample{{At: time.Second, Bytes: 5}}, 0, 5, 0},
		{"flat", samplesOf(func(float64) float64 { return 40 << 20 }, 100, time.Second), 0, 40 << 20, 1e-9},
		{"growing 1 KiB/s", samplesOf(func(s float64) float64 { return 20<<20 + 1024*s }, 600, time.Second), 1024, 20<<20 + 1024*599, 1e-6},
		{"sawtooth around flat", samplesOf(func(s float64) float64 { return float64(30<<20 + (int(s)%10)*(1<<20)) }, 600, time.Second), 0, 39 << 20, 1024}, // a fraction of the 1 MiB swing per 10 s
		{"same instant", []RSSSample{{Bytes: 1}, {Bytes: 9}}, 0, 9, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := RSSSlope(c.samples); math.Abs(got-c.slope) > c.tolerance {
				t.Errorf("slope = %v B/s, want %v", got, c.slope)
			}
			if got := PeakRSS(c.samples); got != c.peak {
				t.Errorf("peak = %d, want %d", got, c.peak)
			}
		})
	}
}

func TestSecondHalfSeesOnlyTheSettledPart(t *testing.T) {
	// Memory grows for 5 minutes (a retention bound filling) and then stays flat.
	samples := samplesOf(func(s float64) float64 { return 20<<20 + 100_000*min(s, 300) }, 601, time.Second)
	half := SecondHalf(samples)
	if len(half) != 301 || half[0].At != 300*time.Second {
		t.Fatalf("second half: %d samples from %v, want 301 from 5m", len(half), half[0].At)
	}
	if s := RSSSlope(half); math.Abs(s) > 1e-6 {
		t.Errorf("slope of the settled half = %v, want 0", s)
	}
	if s := RSSSlope(samples); s < 10_000 {
		t.Errorf("slope of the whole run = %v, want the growth to show", s)
	}
	if SecondHalf(nil) != nil {
		t.Error("second half of nothing")
	}
}

func TestParseStatCPU(t *testing.T) {
	cases := []struct {
		name string
		stat string
		want time.Duration
		ok   bool
	}{
		{"kernel layout", "12285 (cat) R 12283 12283 16406 0 -1 4194304 123 0 0 0 250 31 0 0 20 0 1 0", 281 * clockTick, true},
		{"a name with spaces and parentheses", "7 (my (odd) name) S 1 7 7 0 -1 0 0 0 0 0 5 6 0 0 20 0 1 0", 11 * clockTick, true},
		{"truncated", "7 (x) S 1 7", 0, false},
		{"no name", "7 x S 1 7 7 0 -1 0 0 0 0 0 5 6 0 0", 0, false},
		{"not numbers", "7 (x) S 1 7 7 0 -1 0 0 0 0 0 a b 0 0", 0, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := parseStatCPU(c.stat)
			if (err == nil) != c.ok || got != c.want {
				t.Errorf("parseStatCPU = %v, %v; want %v (ok %v)", got, err, c.want, c.ok)
			}
		})
	}
}

func TestCPUCost(t *testing.T) {
	got := Result{Count: 1000, ServerCPU: 2 * time.Second, DriverCPU: 500 * time.Millisecond}
	ref := Result{Count: 1000, DriverCPU: 1500 * time.Millisecond}
	c := cpuCost(got, ref, refOnDriver)
	if c == nil || c.ServerPerOp != 2000 || c.DriverPerOp != 500 || c.RefPerOp != 1500 || c.Ratio != 0.75 {
		t.Errorf("cost = %+v, want server 2000 µs, driver 500 µs, reference 1500 µs, ratio 0.75", c)
	}
	onServer := cpuCost(got, Result{Count: 500, ServerCPU: time.Second}, refOnServer)
	if onServer == nil || onServer.Ratio != 1 {
		t.Errorf("cost against a server reference = %+v, want ratio 1", onServer)
	}
	if cpuCost(Result{Count: 10}, ref, refOnDriver) != nil {
		t.Error("a cost without the server's CPU (a target)")
	}
}

func TestWithCPUCountsBothProcesses(t *testing.T) {
	// burn spins until this process has used d more CPU time (however busy the machine).
	burn := func(_ context.Context, d time.Duration) Result {
		n := 0
		for start := selfCPU(); selfCPU()-start < d; {
			n++
		}
		return Result{Count: int64(n), Elapsed: d}
	}
	// This process plays both the driver and the "server".
	r := WithCPU(burn, os.Getpid())(context.Background(), 100*time.Millisecond)
	if r.DriverCPU < 100*time.Millisecond || r.ServerCPU < 80*time.Millisecond { // /proc counts in 10 ms ticks
		t.Errorf("driver CPU %v, server CPU %v after spinning for 100 ms of CPU", r.DriverCPU, r.ServerCPU)
	}
	if r2 := WithCPU(burn, 0)(context.Background(), time.Millisecond); r2.ServerCPU != 0 {
		t.Errorf("server CPU %v without a server", r2.ServerCPU)
	}
}
