package gcfloor

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
	"time"
)

func TestPercent(t *testing.T) {
	const mib = 1 << 20
	tests := []struct {
		name  string
		floor uint64
		h     Heap
		base  int
		want  int
	}{
		{"small heap: raised so the goal reaches the floor", 16 * mib, Heap{Live: 4 * mib, Stacks: mib, Globals: mib}, 100, 200},
		{"smaller heap: capped where the runtime's minimum goal is the floor", 16 * mib, Heap{Live: 2 * mib, Stacks: mib / 2, Globals: mib / 2}, 100, 400},
		{"goal already past the floor", 16 * mib, Heap{Live: 10 * mib, Stacks: 10 * mib}, 100, 100},
		{"exactly at the floor", 16 * mib, Heap{Live: 8 * mib}, 100, 100},
		{"live heap past the floor", 16 * mib, Heap{Live: 20 * mib}, 100, 100},
		{"almost empty heap: capped", 16 * mib, Heap{Live: 1024}, 100, 400},
		{"a higher floor allows a higher GOGC", 64 * mib, Heap{Live: 1024}, 100, 1600},
		{"nothing scanned yet", 16 * mib, Heap{}, 100, 100},
		{"a higher configured GOGC is kept", 16 * mib, Heap{Live: 2 * mib, Stacks: mib / 2, Globals: mib / 2}, 600, 600},
		{"a configured GOGC above the cap is kept", 16 * mib, Heap{Live: 1024}, 2000, 2000},
		{"a lower configured GOGC is raised too", 16 * mib, Heap{Live: 4 * mib, Stacks: 4 * mib}, 50, 150},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Percent(tc.floor, tc.h, tc.base)
			if got != tc.want {
				t.Fatalf("Percent = %d, want %d", got, tc.want)
			}
			if got > tc.base && got < MaxPercent(tc.floor) {
				goal := float64(tc.h.Live) + float64(tc.h.Live+tc.h.Stacks+tc.h.Globals)*float64(got)/100
				if goal < float64(tc.floor) {
					t.Errorf("GOGC %d makes a goal of %.0f bytes, below the floor %d", got, goal, tc.floor)
				}
			}
		})
	}
}

func readUint(name string) uint64 {
	s := []metrics.Sample{{Name: name}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

var sink [][]byte

// After collections, the runtime's heap goal reaches the floor (and GOGC is raised for it);
// stop gives the configured GOGC back.
func TestStartRaisesTheGoalToTheFloorAndStopRestores(t *testing.T) {
	base := debug.SetGCPercent(100)
	defer debug.SetGCPercent(base)
	const floor = 64 << 20
	if goal := readUint("/gc/heap/goal:bytes"); goal >= floor {
		t.Skipf("the test process's heap goal is already %d bytes, at or above the floor", goal)
	}
	live := make([]byte, 8<<20) // a live heap the floor is at most eight times of, so MaxPercent does not cap it
	defer runtime.KeepAlive(live)
	stop := Start(Config{Floor: floor})
	deadline := time.Now().Add(10 * time.Second)
	for readUint("/gc/heap/goal:bytes") < floor {
		if time.Now().After(deadline) {
			t.Fatalf("heap goal %d bytes after 10 s of collections, want at least the floor %d (GOGC %d)",
				readUint("/gc/heap/goal:bytes"), floor, readUint("/gc/gogc:percent"))
		}
		sink = append(sink[:0], make([]byte, 1<<20)) // garbage, so that collections happen
		runtime.GC()
		time.Sleep(time.Millisecond) // the finalizer runs on its own goroutine
	}
	if p := readUint("/gc/gogc:percent"); p <= 100 {
		t.Errorf("GOGC %d with the goal at the floor, want it raised above 100", p)
	}
	stop()
	if p := readUint("/gc/gogc:percent"); p != 100 {
		t.Errorf("GOGC %d after stop, want the configured 100", p)
	}
	runtime.GC()
	time.Sleep(10 * time.Millisecond)
	if p := readUint("/gc/gogc:percent"); p != 100 {
		t.Errorf("GOGC %d after stop and a collection, want 100: the tuner went on", p)
	}
}

func TestStartDoesNothingWithTheCollectorOff(t *testing.T) {
	base := debug.SetGCPercent(-1)
	defer debug.SetGCPercent(base)
	stop := Start(Config{Floor: 64 << 20})
	if p := debug.SetGCPercent(-1); p != -1 {
		t.Errorf("GOGC %d after Start with the collector off, want it left off", p)
	}
	stop()
	if p := debug.SetGCPercent(-1); p != -1 {
		t.Errorf("GOGC %d after stop with the collector off, want it left off", p)
	}
}

// One tuner at a time: a second Start while one runs neither tunes nor, when stopped, puts back
// a GOGC of its own.
func TestStartTwiceTunesOnce(t *testing.T) {
	base := debug.SetGCPercent(100)
	defer debug.SetGCPercent(base)
	stop1 := Start(Config{Floor: 64 << 20})
	debug.SetGCPercent(300) // as if the first tuner had raised it
	stop2 := Start(Config{Floor: 64 << 20})
	stop2()
	if p := debug.SetGCPercent(300); p != 300 {
		t.Errorf("GOGC %d after the second tuner stopped, want the first one's 300 untouched", p)
	}
	stop1()
	if p := readUint("/gc/gogc:percent"); p != 100 {
		t.Errorf("GOGC %d after the first tuner stopped, want its base 100", p)
	}
	stop3 := Start(Config{Floor: 64 << 20}) // and a tuner can start again once none runs
	defer stop3()
	if !running.Load() {
		t.Error("Start after both stopped did not start a tuner")
	}
}
