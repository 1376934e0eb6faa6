package loadgen

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// machineTicks is the machine's CPU time so far, summed over its cores, from the first line
// of /proc/stat, in clock ticks.
type machineTicks struct {
	// busy is user, nice, system, irq, softirq and steal time: every core's time not idle.
	busy uint64
	// total is busy plus idle and iowait.
	total uint64
}

// readMachineTicks reads the machine's CPU time from /proc/stat.
func readMachineTicks() (machineTicks, error) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return machineTicks{}, fmt.Errorf("read machine CPU time: %w", err)
	}
	return parseMachineTicks(string(data))
}

// parseMachineTicks reads the aggregate "cpu" line of /proc/stat: user nice system idle iowait
// irq softirq steal, then guest times that user and nice already count.
func parseMachineTicks(stat string) (machineTicks, error) {
	line, _, _ := strings.Cut(stat, "\n")
	fields := strings.Fields(line)
	if len(fields) < 9 || fields[0] != "cpu" {
		return machineTicks{}, errStat
	}
	var v [8]uint64
	for i := range v {
		n, err := strconv.ParseUint(fields[i+1], 10, 64)
		if err != nil {
			return machineTicks{}, errStat
		}
		v[i] = n
	}
	busy := v[0] + v[1] + v[2] + v[5] + v[6] + v[7]
	return machineTicks{busy: busy, total: busy + v[3] + v[4]}, nil
}

// busyShare is the share of every core's time the machine spent busy between from and t; false
// when no time passed or the counters went backwards.
func (t machineTicks) busyShare(from machineTicks) (float64, bool) {
	if t.total <= from.total || t.busy < from.busy {
		return 0, false
	}
	return float64(t.busy-from.busy) / float64(t.total-from.total), true
}

// machineBusy measures how busy the machine's cores were while it runs: "cores busy 81%", or
// empty when /proc/stat cannot be read. Every process counts, the server's neighbours too:
// it says how much of the machine a load left to absorb its bursts.
type machineBusy struct {
	start machineTicks
	err   error
}

// startMachineBusy starts a machineBusy span.
func startMachineBusy() *machineBusy {
	t, err := readMachineTicks()
	return &machineBusy{start: t, err: err}
}

// String describes the span so far.
func (m *machineBusy) String() string {
	if m.err != nil {
		return ""
	}
	now, err := readMachineTicks()
	if err != nil {
		return ""
	}
	share, ok := now.busyShare(m.start)
	if !ok {
		return ""
	}
	return fmt.Sprintf("cores busy %.0f%%", 100*share)
}
