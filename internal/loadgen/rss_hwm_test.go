package loadgen

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// spikeServeEnv makes this test binary, started as a child server, serve fakeBroker and make
// its resident memory pass spikeBytes for a few milliseconds once, at its first token request
// (inside the memory figure's load), writing its VmHWM line after (or why it could not spike)
// to hwm.txt in its directory.
const spikeServeEnv = "BROKER_LOADGEN_SPIKE_SERVE"

// spikeBytes is the size of the child's spike, well above the 64 MiB bar of rss_peak.
const spikeBytes = 96 << 20

// spikeServe serves, on the listen address of the configuration args give with --config,
// fakeBroker with a spike of resident memory at the first token request (see spikeServeEnv).
// Unlike fakeServe it keeps idle connections, so the memory figure is judged.
func spikeServe(args []string) error {
	addr, err := fakeListen(args)
	if err != nil {
		return err
	}
	var once sync.Once
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/token" {
			once.Do(spike)
		}
		fakeBroker(w, r)
	})
	srv := &http.Server{Addr: addr, Handler: h, ReadHeaderTimeout: time.Second}
	return srv.ListenAndServe()
}

// spike maps spikeBytes of anonymous memory populated at once, unmaps it, and writes the
// process's VmHWM line, or why the mapping failed, to hwm.txt.
func spike() {
	b, err := syscall.Mmap(-1, 0, spikeBytes, syscall.PROT_READ|syscall.PROT_WRITE,
		syscall.MAP_ANON|syscall.MAP_PRIVATE|syscall.MAP_POPULATE)
	if err != nil {
		_ = os.WriteFile("hwm.txt", []byte("mmap: "+err.Error()), 0o644)
		return
	}
	_ = syscall.Munmap(b)
	hwm, err := ReadHWM(os.Getpid())
	_ = os.WriteFile("hwm.txt", fmt.Appendf(nil, "VmHWM %d %v", hwm, err), 0o644)
}

// TestRSSPeakSeesASpikeBetweenSamples pins that rss_peak is held to the server's true peak: a
// server whose resident memory passed 96 MiB for a few milliseconds under the load, between
// two of the samples taken every 100 ms, fails the < 64 MiB bar on its VmHWM (the kernel's
// high-water mark), and the figure's detail says the peak is the VmHWM.
// Guards against: figures_memory.go:memoryFigures peak from PeakRSS(samples) alone
// Guards against: rss.go:rssPeak hwm > sampled -> hwm < sampled
func TestRSSPeakSeesASpikeBetweenSamples(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "broker")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\nexec "+exe+" \"$@\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv(spikeServeEnv, "1")
	s := binarySuite(t, bin)
	peak := s.fig("rss_peak")
	if err := s.memoryFigures(context.Background()); err != nil {
		peak.Fail(err)
	}
	peak.Judge()
	hwm, _ := os.ReadFile(filepath.Join(s.serverDir("memory-rss"), "hwm.txt"))
	if strings.HasPrefix(string(hwm), "mmap: ") {
		t.Skipf("SKIPPED: the child server could not map %d MiB: %s", spikeBytes>>20, hwm)
	}
	if peak.Status != StatusFail || peak.Value < spikeBytes/mib || !strings.Contains(peak.Detail, "peak is the server's VmHWM") {
		t.Errorf("rss_peak: %s at %.1f MiB (%s) while the server's own high-water mark was %q; want a fail at %d MiB or more, from its VmHWM",
			peak.Status, peak.Value, peak.Detail, hwm, spikeBytes>>20)
	}
}

// TestParseVmHWM pins the reading of the VmHWM line of a /proc status file, beside the VmRSS
// line it must not be taken for, and the errors of a missing or malformed one.
// Guards against: rss.go:parseVmHWM reading the VmRSS or VmPeak line
func TestParseVmHWM(t *testing.T) {
	layout := "Name:\tbroker\nVmPeak:\t  900000 kB\nVmSize:\t  800000 kB\nVmHWM:\t   54321 kB\nVmRSS:\t   12345 kB\n"
	for _, c := range []struct {
		name   string
		status string
		want   int64
		err    error
	}{
		{"kernel layout", layout, 54321 * 1024, nil},
		{"missing (a kernel thread)", "Name:\tkthreadd\nState:\tS\n", 0, ErrNoHWM},
		{"not kB", "VmHWM:\t12 MB\n", 0, ErrNoHWM},
		{"not a number", "VmHWM:\tlots kB\n", 0, ErrNoHWM},
	} {
		got, err := parseVmHWM(strings.NewReader(c.status))
		if !errors.Is(err, c.err) || got != c.want {
			t.Errorf("%s: parseVmHWM = %d, %v; want %d, %v", c.name, got, err, c.want, c.err)
		}
	}
	if got, err := parseVmRSS(strings.NewReader(layout)); err != nil || got != 12345*1024 {
		t.Errorf("parseVmRSS beside a VmHWM line = %d, %v; want the VmRSS line's %d", got, err, 12345*1024)
	}
}

// TestReadHWMOfThisProcess pins that this process's VmHWM is read and is at least its RSS read
// before it (the high-water mark never falls).
func TestReadHWMOfThisProcess(t *testing.T) {
	rss, err := ReadRSS(os.Getpid())
	if err != nil {
		t.Skipf("SKIPPED: no /proc here: %v", err)
	}
	hwm, err := ReadHWM(os.Getpid())
	if err != nil || hwm < rss {
		t.Errorf("ReadHWM = %d, %v; want at least the RSS read before it, %d", hwm, err, rss)
	}
	if _, err := ReadHWM(-1); err == nil {
		t.Error("no error for a process that cannot exist")
	}
}

// TestRSSPeakIsTheLargerOfSamplesAndHWM pins rss_peak's value: the larger of the largest
// sample and the VmHWM, saying which.
// Guards against: rss.go:rssPeak returning the samples' peak alone
// Guards against: rss.go:rssPeak fromHWM set when the samples' peak is the larger
func TestRSSPeakIsTheLargerOfSamplesAndHWM(t *testing.T) {
	samples := []RSSSample{{0, 20 << 20}, {100 * time.Millisecond, 30 << 20}, {200 * time.Millisecond, 25 << 20}}
	for _, c := range []struct {
		name    string
		samples []RSSSample
		hwm     int64
		want    int64
		fromHWM bool
	}{
		{"a peak between samples", samples, 96 << 20, 96 << 20, true},
		{"the peak sampled", samples, 30 << 20, 30 << 20, false},
		{"a VmHWM not yet raised to a sample", samples, 28 << 20, 30 << 20, false},
		{"no samples", nil, 10 << 20, 10 << 20, true},
	} {
		got, fromHWM := rssPeak(c.samples, c.hwm)
		if got != c.want || fromHWM != c.fromHWM {
			t.Errorf("%s: rssPeak = %d, from VmHWM %v; want %d, %v", c.name, got, fromHWM, c.want, c.fromHWM)
		}
	}
}
