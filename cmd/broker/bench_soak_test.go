package main

import (
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/loadgen"
)

// The soak's bar is a flat memory over a 10-minute soak: a one-second soak, whose second half
// holds a sample or two, is reported as not judged (info, with the reason), never as PASS.
func TestBenchShortSoakIsNotJudged(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIPPED in -short mode: broker bench --quick --soak 1s takes about 5 s")
	}
	report, table := runBenchJSON(t, nil, "--only", "rss_soak_slope", "--soak", "1s")
	for _, f := range report.Figures {
		if f.ID != "rss_soak_slope" {
			continue
		}
		if f.Status != loadgen.StatusInfo || !strings.Contains(f.Detail, "not judged: the soak lasted 1s") {
			t.Errorf("rss_soak_slope %s after a 1 s soak (value %v MiB/min), detail %q; want info, not judged", f.Status, f.Value, f.Detail)
		}
	}
	if !strings.Contains(table, "rss_soak_slope [info]: ") {
		t.Errorf("the table does not report the slope as info:\n%s", table)
	}
}
