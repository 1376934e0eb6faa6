package loadgen

import (
	"fmt"
	"runtime"
	"testing"
	"time"
)

// TestParseMachineTicks reads the aggregate line of /proc/stat as the kernel writes it and
// refuses anything else.
func TestParseMachineTicks(t *testing.T) {
	for _, c := range []struct {
		name, stat string
		want       machineTicks
		ok         bool
	}{
		{"kernel's layout", "cpu  100 2 30 500 7 1 4 6 9 0\ncpu0 50 1 15 250 3 0 2 3 4 0\n",
			machineTicks{busy: 100 + 2 + 30 + 1 + 4 + 6, total: 100 + 2 + 30 + 1 + 4 + 6 + 500 + 7}, true},
		{"older kernel without guest times", "cpu 1 2 3 4 5 6 7 8\n", machineTicks{busy: 1 + 2 + 3 + 6 + 7 + 8, total: 36}, true},
		{"a core's line first", "cpu0 1 2 3 4 5 6 7 8\n", machineTicks{}, false},
		{"too few fields", "cpu 1 2 3 4 5 6 7\n", machineTicks{}, false},
		{"not a number", "cpu 1 2 x 4 5 6 7 8\n", machineTicks{}, false},
		{"negative", "cpu 1 2 -3 4 5 6 7 8\n", machineTicks{}, false},
		{"empty", "", machineTicks{}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := parseMachineTicks(c.stat)
			if (err == nil) != c.ok || got != c.want {
				t.Errorf("parseMachineTicks = %+v, %v; want %+v (ok %v)", got, err, c.want, c.ok)
			}
		})
	}
}

// TestBusyShare divides the busy ticks between two readings by all of their ticks, and has no
// share when no time passed or a counter went backwards.
func TestBusyShare(t *testing.T) {
	from := machineTicks{busy: 100, total: 1000}
	for _, c := range []struct {
		to   machineTicks
		want float64
		ok   bool
	}{
		{machineTicks{busy: 150, total: 1200}, 0.25, true},
		{machineTicks{busy: 300, total: 1200}, 1, true},
		{machineTicks{busy: 100, total: 1000}, 0, false},
		{machineTicks{busy: 90, total: 1200}, 0, false},
	} {
		got, ok := c.to.busyShare(from)
		if got != c.want || ok != c.ok {
			t.Errorf("%+v.busyShare(%+v) = %v, %v; want %v, %v", c.to, from, got, ok, c.want, c.ok)
		}
	}
}

// TestMachineBusySeesLoad keeps one core busy for 300 ms inside a span: the span must report
// at least most of that core's share of the machine (other processes only add to it).
func TestMachineBusySeesLoad(t *testing.T) {
	span := startMachineBusy()
	if span.err != nil {
		t.Skipf("SKIPPED: /proc/stat is not readable here: %v", span.err)
	}
	for start := time.Now(); time.Since(start) < 300*time.Millisecond; {
	}
	var pct float64
	got := span.String()
	if _, err := fmt.Sscanf(got, "cores busy %f%%", &pct); err != nil {
		t.Fatalf("String = %q: %v", got, err)
	}
	if floor := 70.0 / float64(runtime.NumCPU()); pct < floor || pct > 100 {
		t.Errorf("String = %q with one of %d cores spinning, want at least %.0f%%", got, runtime.NumCPU(), floor)
	}
}
