package loadgen

import (
	"context"
	"fmt"
	"slices"

	"github.com/brokerhq/broker/keys"
)

// notOnTarget is why a figure is skipped when measuring a running server.
const notOnTarget = "needs a server started by the program (not measured with --target)"

// runTarget measures the figures a running server allows: the token rate of its signing
// algorithm, the public documents, fairness and the open loop. Memory and catalog scale need
// a server of the program's own making and are skipped.
func (s *suite) runTarget(ctx context.Context) {
	b := s.cfg.Target
	s.note("measuring the running server at " + b.URL + "; its store and catalog are its own, and the figures that need a child server are skipped")
	for _, id := range []string{"rss_peak", "rss_soak_slope", "catalog_10k_vs_10"} {
		s.fig(id).Skip(notOnTarget)
	}
	docs, err := b.Public(ctx)
	if err != nil {
		for _, f := range []string{"token_rs256_target", "token_es256_target", "jwks_vs_nginx", "discovery_vs_nginx", "fairness_64_target", "open_loop_target"} {
			s.fig(f).Fail(err)
		}
		return
	}
	var alg string
	for _, a := range []string{keys.RS256, keys.ES256} {
		if slices.Contains(docs.Algs, a) && alg == "" {
			alg = a
			continue
		}
		s.fig("token_" + lower(a) + "_target").Skip(fmt.Sprintf("the target signs with %v", docs.Algs))
	}
	if alg == "" {
		err := fmt.Errorf("the target publishes no RS256 or ES256 key (%v)", docs.Algs)
		for _, f := range []string{"fairness_64_target", "open_loop_target"} {
			s.fig(f).Fail(err)
		}
		s.publicFigures(ctx, b)
		return
	}
	s.serverFigures(ctx, b, alg, "target")
}
