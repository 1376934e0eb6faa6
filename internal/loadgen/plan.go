package loadgen

import (
	"fmt"
	"strings"

	"github.com/brokerhq/broker/keys"
)

// Targets of the figures: the bars the server is held to.
var (
	targetRS256Memory = Target{Op: AtLeast, Bound: 0.85, On: OnRatio}
	targetRS256Redis  = Target{Op: AtLeast, Bound: 0.80, On: OnRatio}
	targetES256       = Target{Op: AtLeast, Bound: 0.33, On: OnRatio}
	targetPublic      = Target{Op: AtLeast, Bound: 0.70, On: OnRatio}
	targetFairness    = Target{Op: AtMost, Bound: 4, On: OnRatio}
	targetOpenLoopP99 = Target{Op: LessThan, Bound: 5, On: OnValue}   // ms
	targetRSS         = Target{Op: LessThan, Bound: 64, On: OnValue}  // MiB
	targetSoakSlope   = Target{Op: AtMost, Bound: 0.25, On: OnValue}  // MiB per minute
	targetCatalog     = Target{Op: AtLeast, Bound: 0.95, On: OnRatio} // 10,000 stacks vs 10
)

// tokenTarget is the bar of the token rate of alg on store, nil for none. ES256 on Redis has
// none: the ES256 bar is the in-process store's, because a P-256 signature costs less CPU than
// the store's round trip and redis-server's own work on the same cores, so that figure
// measures Redis more than the token path (it is reported, with its CPU per request).
func tokenTarget(alg, store string) *Target {
	var t Target
	switch {
	case alg == keys.ES256 && store == "redis":
		return nil
	case alg == keys.ES256:
		t = targetES256
	case store == "redis":
		t = targetRS256Redis
	default:
		t = targetRS256Memory
	}
	return &t
}

// tokenFigure is the planned figure of the token rate of alg on store ("memory", "redis" or
// "target").
func (s *suite) tokenFigure(alg, store string) Figure {
	return Figure{
		ID:   "token_" + strings.ToLower(alg) + "_" + store,
		Name: fmt.Sprintf("POST /v1/token %s, %s store, %d clients", alg, store, s.cfg.Clients),
		Unit: "tokens/s", RefName: "raw " + alg, RefUnit: "signs/s", Target: tokenTarget(alg, store),
	}
}

// plan lists every figure of the run, in the order the report shows them.
func (s *suite) plan() []Figure {
	ptr := func(t Target) *Target { return &t }
	figs := []Figure{
		{ID: "raw_sign_rs256", Name: "raw RS256 signing (RSA 2048), all cores, in-process", Unit: "signs/s"},
		{ID: "raw_sign_es256", Name: "raw ES256 signing (P-256), all cores, in-process", Unit: "signs/s"},
	}
	store := "memory"
	if s.cfg.Target.URL != "" {
		store = "target"
		figs = append(figs, s.tokenFigure(keys.RS256, store), s.tokenFigure(keys.ES256, store))
	} else {
		figs = append(figs,
			s.tokenFigure(keys.RS256, "memory"), s.tokenFigure(keys.ES256, "memory"),
			s.tokenFigure(keys.RS256, "redis"), s.tokenFigure(keys.ES256, "redis"))
	}
	figs = append(figs,
		Figure{ID: "jwks_vs_nginx", Name: "GET jwks_uri", Unit: "req/s", RefName: "nginx, same bytes", RefUnit: "req/s", Target: ptr(targetPublic)},
		Figure{ID: "discovery_vs_nginx", Name: "GET /.well-known/openid-configuration", Unit: "req/s", RefName: "nginx, same bytes", RefUnit: "req/s", Target: ptr(targetPublic)},
		Figure{ID: "fairness_64_" + store, Name: fmt.Sprintf("latency p99 vs p50, %d clients, %s store", FairnessClients, store), Unit: "ms p99", RefName: "p50", RefUnit: "ms", Target: ptr(targetFairness)},
		Figure{ID: "open_loop_" + store, Name: "open loop at half the saturated rate, " + store + " store", Unit: "ms p99", RefName: "scheduled", RefUnit: "req/s", Target: ptr(targetOpenLoopP99)},
	)
	if store == "memory" {
		figs = append(figs, Figure{ID: "open_loop_redis", Name: "open loop at half the saturated rate, redis store", Unit: "ms p99", RefName: "scheduled", RefUnit: "req/s", Target: ptr(targetOpenLoopP99)})
	}
	figs = append(figs,
		Figure{ID: "rss_peak", Name: fmt.Sprintf("server RSS, %d idle conns + %d-client load", IdleConnections, FairnessClients), Unit: "MiB peak", RefName: "at start", RefUnit: "MiB", Target: ptr(targetRSS)},
		Figure{ID: "rss_soak_slope", Name: "server RSS slope over the soak's second half", Unit: "MiB/min", Target: ptr(targetSoakSlope)},
		Figure{ID: "catalog_10k_vs_10", Name: fmt.Sprintf("POST /v1/token with %d stacks", CatalogStacks), Unit: "tokens/s", RefName: fmt.Sprintf("%d stacks", BaseStacks), RefUnit: "tokens/s", Target: ptr(targetCatalog)},
		Figure{ID: "catalog_10k_vs_10_es256", Name: fmt.Sprintf("POST /v1/token ES256 with %d stacks", CatalogStacks), Unit: "tokens/s", RefName: fmt.Sprintf("%d stacks", BaseStacks), RefUnit: "tokens/s", Target: ptr(targetCatalog)},
	)
	return figs
}
