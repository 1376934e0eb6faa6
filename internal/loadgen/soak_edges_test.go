package loadgen

import (
	"math"
	"testing"
	"time"
)

// TestSoakSecondHalfOfExactly30SamplesIsJudged pins the documented boundary: a 10-minute soak whose
// second half holds 30 samples (the minimum) is judged, pass or fail.
// Guards against: figures_memory.go:102 len(half) < MinSoakSamples -> <=
func TestSoakSecondHalfOfExactly30SamplesIsJudged(t *testing.T) {
	step := 10350 * time.Millisecond // 59 samples over 600.3 s: samples 29..58 are the second half
	samples := samplesOf(func(float64) float64 { return 40 << 20 }, 59, step)
	if n := len(SecondHalf(samples)); n != MinSoakSamples {
		t.Fatalf("setup: second half holds %d samples, want %d", n, MinSoakSamples)
	}
	f := Figure{ID: "rss_soak_slope", Target: &targetSoakSlope}
	fillSoakSlope(&f, samples, 10*time.Minute)
	f.Judge()
	if f.Status != StatusPass {
		t.Errorf("status %s (%q), want pass: 30 samples in the second half are enough", f.Status, f.Detail)
	}
}

// TestSoakSlopeIsTheSecondHalfs pins that the judged slope is the second half's: memory that grows
// while a retention bound fills and then stays flat passes, though its whole-run slope is far over
// the bar.
// Guards against: figures_memory.go:97 RSSSlope(half) -> RSSSlope(samples)
func TestSoakSlopeIsTheSecondHalfs(t *testing.T) {
	// 5 MiB per minute for 5 minutes, then flat for 5 minutes.
	samples := samplesOf(func(s float64) float64 { return 20<<20 + float64(5*mib)*min(s, 300)/60 }, 601, time.Second)
	f := Figure{ID: "rss_soak_slope", Target: &targetSoakSlope}
	fillSoakSlope(&f, samples, 10*time.Minute)
	f.Judge()
	if f.Status != StatusPass || math.Abs(f.Value) > 0.01 {
		t.Errorf("status %s, slope %.3f MiB/min; want pass with the flat second half's slope 0", f.Status, f.Value)
	}
}

// TestRSSSlopeOfOneInstantIsZero pins RSSSlope's documented 0 for samples all taken at one time
// (never NaN, which would also break the JSON report).
// Guards against: rss.go:121 den == 0 check dropped
func TestRSSSlopeOfOneInstantIsZero(t *testing.T) {
	for _, samples := range [][]RSSSample{
		{{At: time.Second, Bytes: 1}, {At: time.Second, Bytes: 9}},
		{{Bytes: 1}, {Bytes: 9}, {Bytes: 4}},
	} {
		if got := RSSSlope(samples); got != 0 {
			t.Errorf("RSSSlope(%v) = %v, want 0", samples, got)
		}
	}
}
