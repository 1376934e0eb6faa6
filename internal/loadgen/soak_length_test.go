package loadgen

import (
	"math"
	"strings"
	"testing"
	"time"
)

// shiftedAnswer returns samples with every sample's time moved later by d.
func shiftedAnswer(samples []RSSSample, d time.Duration) []RSSSample {
	out := make([]RSSSample, len(samples))
	for i, s := range samples {
		out[i] = RSSSample{At: s.At + d, Bytes: s.Bytes}
	}
	return out
}

// TestSoakLastedIsTheShorterOfSoakAndSpan checks that the length a soak is judged on is the
// shorter of the soak asked for and the span of its samples: a 9-minute soak is not judged even
// when its samples span 10 minutes, and samples spanning 9 minutes are not judged even when
// they start late in a 20-minute soak.
// Guards against: figures_memory.go:fillSoakSlope lasted := min(soak, span) -> span
// Guards against: figures_memory.go:fillSoakSlope span last.At-samples[0].At -> last.At
func TestSoakLastedIsTheShorterOfSoakAndSpan(t *testing.T) {
	flat := func(float64) float64 { return 40 << 20 }
	cases := []struct {
		name    string
		samples []RSSSample
		soak    time.Duration
	}{
		{"9-minute soak, 10 minutes of samples",
			samplesOf(flat, 601, time.Second), 9 * time.Minute},
		{"20-minute soak, 9 minutes of samples from 5m",
			shiftedAnswer(samplesOf(flat, 541, time.Second), 5*time.Minute), 20 * time.Minute},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := Figure{ID: "rss_soak_slope", Target: &targetSoakSlope}
			fillSoakSlope(&f, c.samples, c.soak)
			f.Judge()
			if f.Status != StatusInfo || !strings.Contains(f.Detail, "the soak lasted 9m0s") {
				t.Errorf("status %s, detail %q; want info, the soak having lasted 9m0s",
					f.Status, f.Detail)
			}
		})
	}
}

// TestSoakSlopeIsInMiBPerMinute checks that the slope figure is in MiB (2^20 bytes) per
// minute and that its detail names the span of the second half and the soak.
// Guards against: figures_memory.go:fillSoakSlope / mib -> / 1e6
// Guards against: figures_memory.go:fillSoakSlope detail span last.At - half[0].At -> last.At
func TestSoakSlopeIsInMiBPerMinute(t *testing.T) {
	leaking := func(s float64) float64 { return 40<<20 + float64(mib)*s/60 } // 1 MiB per minute
	f := Figure{ID: "rss_soak_slope", Target: &targetSoakSlope}
	fillSoakSlope(&f, samplesOf(leaking, 601, time.Second), 10*time.Minute)
	if math.Abs(f.Value-1) > 1e-6 {
		t.Errorf("slope %v MiB/min, want 1", f.Value)
	}
	if want := "301 samples over the last 5m0s of a 10m0s soak"; !strings.Contains(f.Detail, want) {
		t.Errorf("detail %q, want it to say %q", f.Detail, want)
	}
}

// TestUnjudgedAppendsItsReason checks that a figure marked not judged keeps its detail and
// appends "not judged: " and the reason after a "; ", or has that alone when it had no detail.
// Guards against: report.go:Unjudged "; " separator added to an empty detail
// Guards against: report.go:Unjudged "; " separator dropped
// Guards against: report.go:Unjudged detail replaced instead of appended to
func TestUnjudgedAppendsItsReason(t *testing.T) {
	var bare Figure
	bare.Unjudged("off loopback")
	if bare.Status != StatusInfo || bare.Detail != "not judged: off loopback" {
		t.Errorf("bare figure: %s %q, want info, %q", bare.Status, bare.Detail,
			"not judged: off loopback")
	}
	described := Figure{Detail: "12 tokens"}
	described.Unjudged("off loopback")
	if want := "12 tokens; not judged: off loopback"; described.Detail != want {
		t.Errorf("described figure: detail %q, want %q", described.Detail, want)
	}
}
