package catalog_test

import (
	"syscall"
	"testing"
	"time"
)

// reportCPU adds cpu-ns/op (the process's user and system CPU time per operation) to b's
// results: on a shared machine wall time swings with the neighbours, CPU time much less.
func reportCPU(b *testing.B) func() {
	b.Helper()
	start := processCPU(b)
	return func() { b.ReportMetric(float64(processCPU(b)-start)/float64(b.N), "cpu-ns/op") }
}

func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
