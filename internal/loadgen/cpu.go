package loadgen

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clockTick is the unit of the CPU times in /proc/<pid>/stat (USER_HZ, 100 on Linux).
const clockTick = 10 * time.Millisecond

// errStat reports a /proc/<pid>/stat that cannot be read as the kernel writes it.
var errStat = errors.New("malformed process stat")

// ProcessCPU is the CPU time (user and system) process pid has used, from /proc/<pid>/stat.
func ProcessCPU(pid int) (time.Duration, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, fmt.Errorf("read process CPU time: %w", err)
	}
	return parseStatCPU(string(data))
}

// parseStatCPU reads utime and stime (fields 14 and 15) of a /proc stat line; the command name
// in parentheses may hold spaces, so fields are counted after its closing parenthesis.
func parseStatCPU(stat string) (time.Duration, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, errStat
	}
	fields := strings.Fields(stat[i+1:]) // fields[0] is field 3, the state
	if len(fields) < 13 {
		return 0, errStat
	}
	utime, err1 := strconv.ParseInt(fields[11], 10, 64)
	stime, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err1 != nil || err2 != nil || utime < 0 || stime < 0 {
		return 0, errStat
	}
	return time.Duration(utime+stime) * clockTick, nil
}

// selfCPU is the CPU time this process has used.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// WithCPU wraps m so that each Result also carries the CPU time this process (DriverCPU) and
// process pid (ServerCPU; none when pid is 0) used during it.
func WithCPU(m Measure, pid int) Measure {
	return func(ctx context.Context, d time.Duration) Result {
		self0 := selfCPU()
		srv0, err0 := ProcessCPU(pid)
		r := m(ctx, d)
		r.DriverCPU = selfCPU() - self0
		if pid != 0 && err0 == nil {
			if srv1, err := ProcessCPU(pid); err == nil {
				r.ServerCPU = srv1 - srv0
			}
		}
		return r
	}
}

// CPUCost compares CPU time per operation, which a shared machine's neighbours disturb much
// less than wall-clock rates.
type CPUCost struct {
	// ServerPerOp and DriverPerOp are the server's and the load driver's CPU per request, µs.
	ServerPerOp float64 `json:"serverMicrosPerOp"`
	DriverPerOp float64 `json:"driverMicrosPerOp"`
	// RefPerOp is the reference's CPU per operation, µs.
	RefPerOp float64 `json:"referenceMicrosPerOp"`
	// Ratio is RefPerOp / ServerPerOp: the share of the server's CPU per request that the
	// reference's own operation would take (1 when it costs the server nothing more).
	Ratio float64 `json:"ratio"`
}

// refSpender names the process whose CPU a reference's operations are: the load driver's, as
// for raw signing, or the server's, as for another server answering the same requests.
type refSpender int

const (
	refOnDriver refSpender = iota
	refOnServer
)

// cpuCost compares the server CPU per request of got with the CPU per operation of ref, spent
// by the process spender names; nil when either is unknown.
func cpuCost(got, ref Result, spender refSpender) *CPUCost {
	refCPU := ref.DriverCPU
	if spender == refOnServer {
		refCPU = ref.ServerCPU
	}
	if got.Count == 0 || ref.Count == 0 || got.ServerCPU <= 0 || refCPU <= 0 {
		return nil
	}
	per := func(cpu time.Duration, n int64) float64 { return float64(cpu) / float64(time.Microsecond) / float64(n) }
	c := &CPUCost{
		ServerPerOp: per(got.ServerCPU, got.Count), DriverPerOp: per(got.DriverCPU, got.Count),
		RefPerOp: per(refCPU, ref.Count),
	}
	c.Ratio = c.RefPerOp / c.ServerPerOp
	return c
}

// cpuSpan is the CPU time of some processes and of this one (the load driver) from its start.
type cpuSpan struct {
	names []string
	pids  map[string]int
	start map[string]time.Duration
	self  time.Duration
}

// startCPUs starts a cpuSpan of the processes pids names (a pid of 0, or one whose CPU cannot
// be read, is left out) and of this process.
func startCPUs(pids map[string]int) *cpuSpan {
	c := &cpuSpan{pids: map[string]int{}, start: map[string]time.Duration{}, self: selfCPU()}
	for name, pid := range pids {
		if pid == 0 {
			continue
		}
		if t, err := ProcessCPU(pid); err == nil {
			c.names = append(c.names, name)
			c.pids[name], c.start[name] = pid, t
		}
	}
	sort.Strings(c.names)
	return c
}

// perOp describes the CPU each process and the driver used since the span started, per each
// of n operations, in µs: "redis-server 120 µs, server 1300 µs, load driver 40 µs"; empty
// when n is 0.
func (c *cpuSpan) perOp(n int64) string {
	if n <= 0 {
		return ""
	}
	per := func(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) / float64(n) }
	var parts []string
	for _, name := range c.names {
		if t, err := ProcessCPU(c.pids[name]); err == nil {
			parts = append(parts, fmt.Sprintf("%s %.0f µs", name, per(t-c.start[name])))
		}
	}
	parts = append(parts, fmt.Sprintf("load driver %.0f µs", per(selfCPU()-c.self)))
	return strings.Join(parts, ", ")
}
