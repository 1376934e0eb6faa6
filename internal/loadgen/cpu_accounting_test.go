package loadgen

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"
)

// TestWithCPUCountsOnlyTheMeasurement pins that the server's and the driver's CPU are the CPU
// used during the measurement, not since the process started: a process that has burnt 300 ms of
// CPU before a 50 ms measurement is charged about 50 ms.
// Guards against: cpu.go:WithCPU r.ServerCPU = srv1 - srv0 -> srv1
// Guards against: cpu.go:WithCPU r.DriverCPU = selfCPU() - self0 -> selfCPU()
func TestWithCPUCountsOnlyTheMeasurement(t *testing.T) {
	burn := func(_ context.Context, d time.Duration) Result {
		for start := selfCPU(); selfCPU()-start < d; {
		}
		return Result{Count: 1, Elapsed: d}
	}
	burn(context.Background(), 300*time.Millisecond)
	r := WithCPU(burn, os.Getpid())(context.Background(), 50*time.Millisecond)
	if r.DriverCPU < 50*time.Millisecond || r.DriverCPU > 200*time.Millisecond {
		t.Errorf("driver CPU %v for a 50 ms measurement after 300 ms of earlier work", r.DriverCPU)
	}
	if r.ServerCPU > 200*time.Millisecond {
		t.Errorf("server CPU %v for a 50 ms measurement after 300 ms of earlier work", r.ServerCPU)
	}
}

// TestParseStatCPURefusesWhatTheKernelNeverWrites pins that negative CPU ticks and a stat
// line cut before its stime field are refused, never read (or a panic).
// Guards against: cpu.go:parseStatCPU utime < 0 || stime < 0 dropped
// Guards against: cpu.go:parseStatCPU len(fields) < 13 -> < 12
func TestParseStatCPURefusesWhatTheKernelNeverWrites(t *testing.T) {
	for _, stat := range []string{
		"7 (x) S 1 7 7 0 -1 0 0 0 0 0 -5 6 0 0 20 0 1 0",
		"7 (x) S 1 7 7 0 -1 0 0 0 0 0 5 -6 0 0 20 0 1 0",
		"7 (x) S 1 7 7 0 -1 0 0 0 0 0 5", // 12 fields after the name: no stime
	} {
		if got, err := parseStatCPU(stat); err == nil {
			t.Errorf("parseStatCPU(%q) = %v, want an error", stat, got)
		}
	}
}

// TestCPUCostNeedsCompletedRequests pins that no CPU comparison is made for a measurement
// that completed nothing (its CPU per request is unknown, not infinite).
// Guards against: cpu.go:cpuCost got.Count == 0 dropped
func TestCPUCostNeedsCompletedRequests(t *testing.T) {
	ref := Result{Count: 1000, DriverCPU: time.Second}
	if c := cpuCost(Result{ServerCPU: time.Second, DriverCPU: time.Second}, ref, refOnDriver); c != nil {
		t.Errorf("cost of a measurement of nothing: %+v, want none", *c)
	}
}

// TestBusyShareOfAnIdleMachine pins that a span in which time passed but no core was busy
// has a share of 0, not none.
// Guards against: machinecpu.go:busyShare t.busy < from.busy -> <=
func TestBusyShareOfAnIdleMachine(t *testing.T) {
	got, ok := machineTicks{busy: 100, total: 1200}.busyShare(machineTicks{busy: 100, total: 1000})
	if got != 0 || !ok {
		t.Errorf("busyShare = %v, %v; want 0, true", got, ok)
	}
}

// TestBusyNoteSeesALoadBeforeTheRun pins that a load average over the cores before the run
// (a quiet machine after it) is noted as a busy machine too.
// Guards against: suite.go:busyNote max(before, after) -> after
func TestBusyNoteSeesALoadBeforeTheRun(t *testing.T) {
	note := busyNote(Machine{Cores: 2, LoadBefore: "3.5", LoadAfter: "0.10"})
	if !strings.Contains(note, "BUSY MACHINE") || !strings.Contains(note, "3.5") {
		t.Errorf("load 3.5 before and 0.10 after on 2 cores: note %q, want a busy machine", note)
	}
}
