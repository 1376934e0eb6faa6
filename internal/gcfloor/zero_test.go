package gcfloor

import (
	"runtime/debug"
	"testing"
)

// TestZeroFloorDoesNotClaimTheTuner pins that Start with a zero floor does nothing: it does not
// take the one tuner slot, so a later Start with a real floor still tunes.
// Guards against: floor.go:72 dropped `cfg.Floor == 0` check
func TestZeroFloorDoesNotClaimTheTuner(t *testing.T) {
	base := debug.SetGCPercent(100)
	defer debug.SetGCPercent(base)
	stopZero := Start(Config{})
	defer stopZero()
	if running.Load() {
		t.Fatal("Start with a zero floor left a tuner running")
	}
	stop := Start(Config{Floor: DefaultFloor})
	defer stop()
	if !running.Load() {
		t.Error("Start with a floor after a zero-floor Start did not tune")
	}
}
