package loadgen

import (
	"strings"
	"testing"
	"time"
)

// The slope's bar is a flat memory over a 10-minute soak: a shorter soak, or a second half of
// too few samples, is reported as not judged (info, with the reason), never as pass or fail.
func TestSoakSlopeJudgedOnlyOverALongSoak(t *testing.T) {
	flat := func(float64) float64 { return 40 << 20 }
	leaking := func(s float64) float64 { return 40<<20 + float64(mib)*s/60 } // 1 MiB per minute
	cases := []struct {
		name    string
		samples []RSSSample
		soak    time.Duration
		want    Status
		says    string
	}{
		{"one sample, 1 s soak", samplesOf(flat, 1, time.Second), time.Second, StatusInfo, "the soak lasted 0s"},
		{"5 s soak", samplesOf(flat, 6, time.Second), 5 * time.Second, StatusInfo, "the soak lasted 5s"},
		{"9 minutes", samplesOf(flat, 541, time.Second), 9 * time.Minute, StatusInfo, "at least 10m0s"},
		{"10 minutes asked, 5 sampled (interrupted)", samplesOf(flat, 301, time.Second), 10 * time.Minute, StatusInfo, "the soak lasted 5m0s"},
		{"10 minutes, 21 samples", samplesOf(flat, 21, 30*time.Second), 10 * time.Minute, StatusInfo, "holds 11 samples"},
		{"10 minutes flat", samplesOf(flat, 601, time.Second), 10 * time.Minute, StatusPass, "301 samples"},
		{"10 minutes leaking", samplesOf(leaking, 601, time.Second), 10 * time.Minute, StatusFail, "301 samples"},
		{"leaking, 1 minute", samplesOf(leaking, 61, time.Second), time.Minute, StatusInfo, "not judged"},
		{"no samples", nil, time.Second, StatusInfo, "no memory samples"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := Figure{ID: "rss_soak_slope", Target: &targetSoakSlope}
			fillSoakSlope(&f, c.samples, c.soak)
			f.Judge()
			if f.Status != c.want || !strings.Contains(f.Detail, c.says) {
				t.Errorf("status %s (value %.3f MiB/min), detail %q; want %s, saying %q", f.Status, f.Value, f.Detail, c.want, c.says)
			}
		})
	}
}
