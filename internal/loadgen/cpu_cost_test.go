package loadgen

import (
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestCPUCostDividesEachSideByItsOwnCount checks that the server's and the driver's CPU
// per request divide by the measurement's count and the reference's CPU by the reference's own
// count, when the two counts differ.
// Guards against: cpu.go:cpuCost DriverPerOp divided by ref.Count
func TestCPUCostDividesEachSideByItsOwnCount(t *testing.T) {
	got := Result{Count: 1000, ServerCPU: 2 * time.Second, DriverCPU: 500 * time.Millisecond}
	ref := Result{Count: 500, DriverCPU: time.Second}
	c := cpuCost(got, ref, refOnDriver)
	if c == nil || c.ServerPerOp != 2000 || c.DriverPerOp != 500 || c.RefPerOp != 2000 ||
		c.Ratio != 1 {
		t.Errorf("cost %+v, want server 2000 µs, driver 500 µs, reference 2000 µs, ratio 1", c)
	}
}

// TestCPUCostNeedsReferenceOperations checks that no CPU comparison is made when the
// reference completed nothing: its CPU per operation is unknown, not infinite (an infinite
// ratio cannot even be written as JSON).
// Guards against: cpu.go:cpuCost ref.Count == 0 check dropped
func TestCPUCostNeedsReferenceOperations(t *testing.T) {
	got := Result{Count: 1000, ServerCPU: 2 * time.Second, DriverCPU: time.Second}
	if c := cpuCost(got, Result{DriverCPU: time.Second}, refOnDriver); c != nil {
		t.Errorf("cost against a reference of no operations: %+v, want none", *c)
	}
}

// TestCPUSpanNamesInOrder checks that a CPU span lists its processes by name, in order,
// before the load driver, whatever the order of the map it was given.
// Guards against: cpu.go:startCPUs sort.Strings(c.names) dropped
func TestCPUSpanNamesInOrder(t *testing.T) {
	pid := os.Getpid()
	pids := map[string]int{}
	for _, name := range []string{"h", "c", "f", "a", "g", "d", "b", "e"} {
		pids[name] = pid
	}
	span := startCPUs(pids)
	if !slices.Equal(span.names, []string{"a", "b", "c", "d", "e", "f", "g", "h"}) {
		t.Fatalf("span names %v, want a to h in order", span.names)
	}
	var order []string
	for part := range strings.SplitSeq(span.perOp(1), ", ") {
		order = append(order, strings.Fields(part)[0])
	}
	want := []string{"a", "b", "c", "d", "e", "f", "g", "h", "load"}
	if !slices.Equal(order, want) {
		t.Errorf("perOp lists %v, want %v", order, want)
	}
}
