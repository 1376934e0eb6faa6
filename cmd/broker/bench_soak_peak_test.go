package main

import (
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/loadgen"
)

// memoryDetail reads the token load's length and the sample count of rss_peak's detail.
var memoryDetail = regexp.MustCompile(`^\d+ tokens in (\S+), (\d+) samples`)

// TestShortSoakDoesNotShortenTheMemoryFigure: the memory figure (rss_peak: RSS with 1,000 idle
// connections and 64 clients asking for tokens, sampled every 100 ms for twice the figure's
// duration) is judged only on a load that long, sampled while it runs: a --soak shorter than
// that does not leave the figure judged on a single sample taken before the first token.
func TestShortSoakDoesNotShortenTheMemoryFigure(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIPPED in -short mode: broker bench --quick --only rss_peak takes about 5 s")
	}
	report, _ := runBenchJSON(t, nil, "--only", "rss_peak", "--soak", "1ms")
	for _, f := range report.Figures {
		if f.ID != "rss_peak" || (f.Status != loadgen.StatusPass && f.Status != loadgen.StatusFail) {
			continue
		}
		m := memoryDetail.FindStringSubmatch(f.Detail)
		if m == nil {
			t.Fatalf("rss_peak detail %q: no load length and sample count", f.Detail)
		}
		load, err := time.ParseDuration(m[1])
		if err != nil {
			t.Fatal(err)
		}
		samples, _ := strconv.Atoi(m[2])
		if load < 2*benchQuickDuration || samples < 5 {
			t.Errorf("rss_peak %s on a %s load and %d sample(s) (%q); want a load of at least %s "+
				"sampled every 100 ms, or the figure not judged", f.Status, load, samples, f.Detail,
				2*benchQuickDuration)
		}
	}
}
