package gcfloor

import (
	"math"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"sync/atomic"
)

// DefaultFloor is the heap goal a server keeps at least: 16 MiB.
const DefaultFloor = 16 << 20

// runtimeHeapMinimum is the Go runtime's smallest heap goal at GOGC=100. The runtime scales it
// with GOGC, so the floor never sets a GOGC above floor / runtimeHeapMinimum × 100: beyond it,
// the runtime's own minimum alone would take the goal past the floor.
const runtimeHeapMinimum = 4 << 20

// Config configures Start.
type Config struct {
	// Floor is the heap goal, in bytes, below which the next collection is not made due.
	Floor uint64
}

// Heap is what a collection left, as the runtime's pacer counts it.
type Heap struct {
	// Live is the heap marked live; Stacks and Globals the scannable stack and global bytes.
	Live, Stacks, Globals uint64
}

// MaxPercent is the highest GOGC the floor sets for floor: the one at which the runtime's
// minimum heap goal (4 MiB at GOGC=100, scaled by GOGC) equals the floor.
func MaxPercent(floor uint64) int { return int(floor * 100 / runtimeHeapMinimum) }

// Percent is the GOGC that makes the next heap goal at least floor for h, never below base and
// never above MaxPercent(floor) (base itself when base is higher). The runtime's goal is
// Live + (Live + Stacks + Globals) × GOGC / 100.
func Percent(floor uint64, h Heap, base int) int {
	scanned := h.Live + h.Stacks + h.Globals
	if floor <= h.Live || scanned == 0 {
		return base
	}
	need := math.Ceil(float64(floor-h.Live) * 100 / float64(scanned))
	if need <= float64(base) {
		return base
	}
	return int(min(need, float64(max(MaxPercent(floor), base))))
}

// tuner adjusts GOGC after each collection until stopped.
type tuner struct {
	floor   uint64
	base    int
	samples []metrics.Sample

	mu      sync.Mutex
	current int
	stopped bool
}

// sentinel is garbage whose finalizer runs after the collection that finds it: it re-arms the
// tuner with a new one. It holds a pointer, so it is never a tiny allocation (whose finalizer
// may not run).
type sentinel struct{ t *tuner }

// Start raises GOGC after each collection as Percent says (so the runtime's minimum goal never
// exceeds the floor), from the GOGC the process runs with. It does nothing when the collector is
// off (GOGC=off), cfg.Floor is zero, or another Start is still running (GOGC is the process's:
// one tuner at a time). The returned stop puts the base GOGC back and ends the tuning.
func Start(cfg Config) (stop func()) {
	if cfg.Floor == 0 || !running.CompareAndSwap(false, true) {
		return func() {}
	}
	base := debug.SetGCPercent(100)
	debug.SetGCPercent(base)
	if base < 0 {
		running.Store(false)
		return func() {}
	}
	t := &tuner{floor: cfg.Floor, base: base, current: base, samples: []metrics.Sample{
		{Name: "/gc/heap/live:bytes"}, {Name: "/gc/scan/stack:bytes"}, {Name: "/gc/scan/globals:bytes"},
	}}
	t.adjust()
	t.arm()
	return t.stop
}

func (t *tuner) arm() {
	s := &sentinel{t: t}
	runtime.SetFinalizer(s, func(s *sentinel) {
		if s.t.adjust() {
			s.t.arm()
		}
	})
}

// adjust sets GOGC for the heap the last collection left; it reports false once stopped.
func (t *tuner) adjust() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped {
		return false
	}
	metrics.Read(t.samples)
	h := Heap{Live: value(t.samples[0]), Stacks: value(t.samples[1]), Globals: value(t.samples[2])}
	if p := Percent(t.floor, h, t.base); p != t.current {
		debug.SetGCPercent(p)
		t.current = p
	}
	return true
}

func (t *tuner) stop() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped {
		return
	}
	t.stopped = true
	debug.SetGCPercent(t.base)
	running.Store(false)
}

// running is set while a tuner runs.
var running atomic.Bool

// value is s's value, 0 when this runtime does not know the metric.
func value(s metrics.Sample) uint64 {
	if s.Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s.Value.Uint64()
}
