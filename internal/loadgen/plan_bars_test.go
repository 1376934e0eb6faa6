package loadgen

import (
	"testing"
)

// TestPlanHoldsEachFigureToItsDocumentedBar pins every planned figure's bar to the one
// docs/performance.md states (bound, comparison and judged quantity), so that a changed bar, a <=
// where the docs say <, or a figure given another figure's bar shows.
// Guards against: plan.go:12 targetRS256Memory Bound 0.85 -> 0.80
// Guards against: plan.go:17 targetOpenLoopP99 Op LessThan -> AtMost
// Guards against: plan.go:71 fairness figure Target ptr(targetFairness) -> ptr(targetPublic)
func TestPlanHoldsEachFigureToItsDocumentedBar(t *testing.T) {
	want := map[string]*Target{
		"raw_sign_rs256":     nil,
		"raw_sign_es256":     nil,
		"token_rs256_memory": {AtLeast, 0.85, OnRatio},
		"token_es256_memory": {AtLeast, 0.33, OnRatio},
		"token_rs256_redis":  {AtLeast, 0.80, OnRatio},
		"token_es256_redis":  nil,
		"jwks_vs_nginx":      {AtLeast, 0.70, OnRatio},
		"discovery_vs_nginx": {AtLeast, 0.70, OnRatio},
		"fairness_64_memory": {AtMost, 4, OnRatio},
		"open_loop_memory":   {LessThan, 5, OnValue},
		"open_loop_redis":    {LessThan, 5, OnValue},
		"rss_peak":           {LessThan, 64, OnValue},
		"rss_soak_slope":     {AtMost, 0.25, OnValue},
		"catalog_10k_vs_10":  {AtLeast, 0.95, OnRatio},
		// The catalog's bar holds at each algorithm.
		"catalog_10k_vs_10_es256": {AtLeast, 0.95, OnRatio},
	}
	s := &suite{cfg: Config{Clients: 32}}
	figs := s.plan()
	if len(figs) != len(want) {
		t.Fatalf("%d planned figures, want %d", len(figs), len(want))
	}
	for _, f := range figs {
		w, ok := want[f.ID]
		switch {
		case !ok:
			t.Errorf("unexpected figure %s", f.ID)
		case w == nil && f.Target != nil:
			t.Errorf("%s: bar %v, want none", f.ID, *f.Target)
		case w != nil && (f.Target == nil || *f.Target != *w):
			t.Errorf("%s: bar %v, want %v", f.ID, f.Target, *w)
		}
	}
	// The same bars in --target mode.
	s.cfg.Target.URL = "http://127.0.0.1:1"
	for _, f := range s.plan() {
		id := map[string]string{"token_rs256_target": "token_rs256_memory", "token_es256_target": "token_es256_memory",
			"fairness_64_target": "fairness_64_memory", "open_loop_target": "open_loop_memory"}[f.ID]
		if id == "" {
			id = f.ID
		}
		if w := want[id]; w != nil && (f.Target == nil || *f.Target != *w) {
			t.Errorf("target mode %s: bar %v, want %v", f.ID, f.Target, *w)
		}
	}
}
