package loadgen

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ErrNoRSS reports a /proc/<pid>/status without a VmRSS line.
var ErrNoRSS = errors.New("no VmRSS line in the process status")

// ErrNoHWM reports a /proc/<pid>/status without a VmHWM line.
var ErrNoHWM = errors.New("no VmHWM line in the process status")

// ReadRSS returns the resident set size of process pid in bytes, from /proc/<pid>/status.
func ReadRSS(pid int) (int64, error) {
	return readStatusKB(pid, "VmRSS:", ErrNoRSS)
}

// ReadHWM returns the peak resident set size of process pid in bytes (VmHWM, the kernel's
// high-water mark over the process's whole life, start-up included), from /proc/<pid>/status:
// it records a peak that samples of VmRSS taken between two moments miss.
func ReadHWM(pid int) (int64, error) {
	return readStatusKB(pid, "VmHWM:", ErrNoHWM)
}

// readStatusKB reads the line of /proc/<pid>/status starting with name (see parseStatusKB).
func readStatusKB(pid int, name string, missing error) (int64, error) {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, fmt.Errorf("read resident memory: %w", err)
	}
	defer f.Close()
	return parseStatusKB(f, name, missing)
}

// parseVmRSS reads the VmRSS line ("VmRSS:	   12345 kB") of a /proc status file.
func parseVmRSS(r io.Reader) (int64, error) { return parseStatusKB(r, "VmRSS:", ErrNoRSS) }

// parseVmHWM reads the VmHWM line ("VmHWM:	   12345 kB") of a /proc status file.
func parseVmHWM(r io.Reader) (int64, error) { return parseStatusKB(r, "VmHWM:", ErrNoHWM) }

// parseStatusKB reads, in bytes, the line of a /proc status file starting with name (such as
// "VmRSS:	   12345 kB"); missing is the error, wrapped, of a file without one or with a
// malformed one.
func parseStatusKB(r io.Reader, name string, missing error) (int64, error) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), name)
		if !ok {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) != 2 || fields[1] != "kB" {
			return 0, fmt.Errorf("%w: malformed %q", missing, sc.Text())
		}
		kb, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil || kb < 0 {
			return 0, fmt.Errorf("%w: malformed %q", missing, sc.Text())
		}
		return kb * 1024, nil
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, missing
}

// RSSSample is one reading of resident memory.
type RSSSample struct {
	// At is the time since sampling started.
	At time.Duration
	// Bytes is the resident set size.
	Bytes int64
}

// SampleRSS reads the resident memory of pid every interval until ctx ends, and returns the
// samples (through the returned function, which waits for the sampler to stop) and the first
// error reading them.
func SampleRSS(ctx context.Context, pid int, interval time.Duration) (stop func() ([]RSSSample, error)) {
	ctx, cancel := context.WithCancel(ctx)
	var (
		wg      sync.WaitGroup
		samples []RSSSample
		readErr error
	)
	start := time.Now()
	wg.Go(func() {
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			b, err := ReadRSS(pid)
			if err != nil {
				readErr = err
				return
			}
			samples = append(samples, RSSSample{At: time.Since(start), Bytes: b})
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	})
	return func() ([]RSSSample, error) {
		cancel()
		wg.Wait()
		return samples, readErr
	}
}

// PeakRSS is the largest sample, 0 for none.
func PeakRSS(samples []RSSSample) int64 {
	var peak int64
	for _, s := range samples {
		peak = max(peak, s.Bytes)
	}
	return peak
}

// rssPeak is the peak resident memory of a server: the larger of the largest of samples and
// hwm, its VmHWM read at the end of the measured phase (ReadHWM); fromHWM tells which. VmHWM
// records the true peak, which samples miss when it falls between two of them; it covers the
// process's whole life, start-up included, which a bound on resident memory holds it to too.
func rssPeak(samples []RSSSample, hwm int64) (peak int64, fromHWM bool) {
	sampled := PeakRSS(samples)
	if hwm > sampled {
		return hwm, true
	}
	return sampled, false
}

// RSSSlope is the least-squares slope of samples in bytes per second; 0 for fewer than two
// samples or samples all taken at one time.
func RSSSlope(samples []RSSSample) float64 {
	n := float64(len(samples))
	if n < 2 {
		return 0
	}
	var sx, sy, sxx, sxy float64
	for _, s := range samples {
		x, y := s.At.Seconds(), float64(s.Bytes)
		sx += x
		sy += y
		sxx += x * x
		sxy += x * y
	}
	den := n*sxx - sx*sx
	if den == 0 {
		return 0
	}
	return (n*sxy - sx*sy) / den
}

// SecondHalf returns the samples taken in the second half of the sampling time, where a
// retention bound has filled and what grows still is a leak.
func SecondHalf(samples []RSSSample) []RSSSample {
	if len(samples) == 0 {
		return nil
	}
	mid := samples[len(samples)-1].At / 2
	for i, s := range samples {
		if s.At >= mid {
			return samples[i:]
		}
	}
	return nil
}
