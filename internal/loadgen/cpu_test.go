package loadgen

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// TestCPUSpanPerOp checks that a span reports each named process it could read, leaves out a
// pid of 0, and divides by the operations: this process, busy for 100 ms over 10 operations,
// used about 10 ms each.
func TestCPUSpanPerOp(t *testing.T) {
	span := startCPUs(map[string]int{"self": os.Getpid(), "none": 0})
	for start := selfCPU(); selfCPU()-start < 100*time.Millisecond; {
	}
	got := span.perOp(10)
	if strings.Contains(got, "none") {
		t.Errorf("perOp = %q: names a pid of 0", got)
	}
	if !strings.HasPrefix(got, "self ") || !strings.Contains(got, ", load driver ") {
		t.Fatalf("perOp = %q, want the named process, then the load driver", got)
	}
	var self float64
	if _, err := fmt.Sscanf(got, "self %f µs", &self); err != nil || self < 9_000 || self > 40_000 {
		t.Errorf("perOp = %q: self %.0f µs per op, want about 10,000 (%v)", got, self, err)
	}
	if span.perOp(0) != "" {
		t.Errorf("perOp(0) = %q, want empty", span.perOp(0))
	}
}
