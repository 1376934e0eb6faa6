package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/loadgen"
)

// broker bench --target sets a server's token rate against the raw signing of the algorithm of
// the tokens it issues, not the first its discovery names: an ES256 server also keeps an RS256
// key for Azure, so its discovery names both. The other algorithm's figure is skipped saying
// which one the target signs with, and the open loop's raw signing line uses the same one.
func TestBenchTargetJudgedAgainstTheAlgItSigns(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIPPED in -short mode: broker bench --quick --target takes about 8 s per server")
	}
	cases := []struct{ alg, other string }{
		{"ES256", "RS256"},
		{"RS256", "ES256"},
	}
	for _, c := range cases {
		t.Run(c.alg, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			srv, err := loadgen.StartServer(ctx, loadgen.ServerConfig{Binary: brokerBin, Dir: t.TempDir(), Alg: c.alg, Stacks: 1})
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Stop()
			report, _ := runBenchJSON(t, []string{"BROKER_API_KEY=" + srv.APIKey}, "--target", srv.URL, "--stack", "bench-stack")
			byID := map[string]loadgen.Figure{}
			for _, f := range report.Figures {
				byID[f.ID] = f
			}
			measured := byID["token_"+strings.ToLower(c.alg)+"_target"]
			if measured.Status != loadgen.StatusPass && measured.Status != loadgen.StatusFail {
				t.Errorf("%s %s (%s), want judged against raw %s", measured.ID, measured.Status, measured.Detail, c.alg)
			}
			if measured.RefName != "raw "+c.alg || measured.Reference <= 0 {
				t.Errorf("%s set against %v %q, want raw %s signing", measured.ID, measured.Reference, measured.RefName, c.alg)
			}
			if skipped := byID["token_"+strings.ToLower(c.other)+"_target"]; skipped.Status != loadgen.StatusSkipped || !strings.Contains(skipped.Detail, "signs its tokens with "+c.alg) {
				t.Errorf("%s %s %q, want skipped saying the target signs with %s", skipped.ID, skipped.Status, skipped.Detail, c.alg)
			}
			if open := byID["open_loop_target"]; !strings.Contains(open.Detail, "raw "+c.alg+" signing alone") {
				t.Errorf("open_loop_target %s %q, want raw %s signing alone on its schedule", open.Status, open.Detail, c.alg)
			}
		})
	}
}
