package gcfloor

import (
	"runtime"
	"runtime/debug"
	"testing"
)

// heapNow is the heap the last collection left, as the tuner reads it.
func heapNow() Heap {
	return Heap{
		Live:    readUint("/gc/heap/live:bytes"),
		Stacks:  readUint("/gc/scan/stack:bytes"),
		Globals: readUint("/gc/scan/globals:bytes"),
	}
}

// settle collects until GOGC is what Percent gives for floor, base 100 and the heap the
// last collection left (the tuner adjusts on the finalizer goroutine), and returns that GOGC.
func settle(t *testing.T, floor uint64) int {
	t.Helper()
	for range 1000 {
		runtime.GC()
		runtime.Gosched()
		want := Percent(floor, heapNow(), 100)
		if got := int(readUint("/gc/gogc:percent")); got == want {
			return got
		}
	}
	t.Fatalf("GOGC %d after 1000 collections, want Percent for the heap: %d",
		readUint("/gc/gogc:percent"), Percent(floor, heapNow(), 100))
	return 0
}

// TestPercentRoundsUp pins that a GOGC between the base and the cap makes a heap goal that
// reaches the floor: a fractional need is rounded up, never down.
// Guards against: floor.go:math.Ceil -> math.Floor
func TestPercentRoundsUp(t *testing.T) {
	const mib = 1 << 20
	h := Heap{Live: 4 * mib, Stacks: 3 * mib}
	got := Percent(16*mib, h, 100)
	if got != 172 {
		t.Fatalf("Percent = %d, want 172 (12 MiB over 7 MiB scanned, rounded up)", got)
	}
	goal := float64(h.Live) + float64(h.Live+h.Stacks+h.Globals)*float64(got)/100
	if goal < 16*mib {
		t.Fatalf("GOGC %d makes a goal of %.0f bytes, below the floor", got, goal)
	}
}

// TestStartTunesAtOnce pins that Start sets GOGC for the heap the last collection left
// before any further collection, from the live heap, stacks and globals the runtime counts.
// Guards against: floor.go:Start without its first t.adjust()
func TestStartTunesAtOnce(t *testing.T) {
	base := debug.SetGCPercent(100)
	defer debug.SetGCPercent(base)
	const floor = 1 << 30
	runtime.GC()
	stop := Start(Config{Floor: floor})
	defer stop()
	want := Percent(floor, heapNow(), 100)
	if want <= 100 {
		t.Fatalf("test set-up: the heap needs no raise for a floor of %d bytes", floor)
	}
	if got := int(readUint("/gc/gogc:percent")); got != want {
		t.Fatalf("GOGC %d right after Start, want %d", got, want)
	}
}

// TestTunerUsesStacksAndGlobals pins that the GOGC the tuner sets after a collection is
// Percent of the live heap, the scanned stacks and the scanned globals that collection left.
// Guards against: floor.go:Stacks read from the live heap's sample
// Guards against: floor.go:Globals taken as 0
func TestTunerUsesStacksAndGlobals(t *testing.T) {
	base := debug.SetGCPercent(100)
	defer debug.SetGCPercent(base)
	const floor = 64 << 20
	live := make([]byte, 8<<20)
	defer runtime.KeepAlive(live)
	stop := Start(Config{Floor: floor})
	defer stop()
	if got := settle(t, floor); got <= 100 || got >= MaxPercent(floor) {
		t.Fatalf("GOGC %d, want one between the base and the cap", got)
	}
}

// TestTunerFollowsTheHeap pins that the tuner goes on after its first collection: once the
// live heap grows past the floor, GOGC goes back to the base.
// Guards against: floor.go:finalizer does not re-arm the tuner
// Guards against: floor.go:adjust compares p with t.base instead of t.current
// Guards against: floor.go:adjust does not record t.current = p
func TestTunerFollowsTheHeap(t *testing.T) {
	base := debug.SetGCPercent(100)
	defer debug.SetGCPercent(base)
	const floor = 16 << 20
	runtime.GC()
	if h := heapNow(); h.Live+h.Stacks+h.Globals >= floor/8 {
		t.Fatalf("test set-up: the test process's heap is already %d bytes", h.Live)
	}
	stop := Start(Config{Floor: floor})
	defer stop()
	if got := settle(t, floor); got <= 100 {
		t.Fatalf("GOGC %d for a small heap, want it raised", got)
	}
	live := make([]byte, 2*floor)
	defer runtime.KeepAlive(live)
	if got := settle(t, floor); got != 100 {
		t.Fatalf("GOGC %d with the live heap past the floor, want the base 100", got)
	}
}

// TestStopTwiceLeavesTheNextTuner pins that a stopped tuner's stop, called again, neither
// puts its GOGC back nor frees the slot of a tuner started since.
// Guards against: floor.go:stop without its `if t.stopped { return }`
func TestStopTwiceLeavesTheNextTuner(t *testing.T) {
	base := debug.SetGCPercent(100)
	defer debug.SetGCPercent(base)
	stop1 := Start(Config{Floor: 64 << 20})
	stop1()
	debug.SetGCPercent(200)
	stop2 := Start(Config{Floor: 64 << 20})
	defer stop2()
	debug.SetGCPercent(300) // as if the second tuner had raised it
	stop1()
	if p := debug.SetGCPercent(300); p != 300 {
		t.Errorf("GOGC %d after the first tuner's stop ran again, want the second's 300", p)
	}
	if !running.Load() {
		t.Error("the first tuner's second stop freed the slot the second tuner holds")
	}
}
