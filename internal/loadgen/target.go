package loadgen

import (
	"context"
	"fmt"
	"net/url"

	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/keys"
)

// notOnTarget is why a figure is skipped when measuring a running server.
const notOnTarget = "needs a server started by the program (not measured with --target)"

// runTarget measures the figures a running server allows: the token rate of the algorithm its
// tokens are signed with, the public documents, fairness and the open loop. Memory and catalog
// scale need a server of the program's own making and are skipped; what the target's place
// (placeOf its URL) makes incomparable is skipped or not judged.
func (s *suite) runTarget(ctx context.Context, place targetPlace) {
	b := s.cfg.Target
	s.note("measuring the running server at " + b.URL + "; its store and catalog are its own, and the figures that need a child server are skipped")
	for _, id := range []string{"rss_peak", "rss_soak_slope", "catalog_10k_vs_10", "catalog_10k_vs_10_es256"} {
		s.fig(id).Skip(notOnTarget)
	}
	if reason := place.nginxSkip(); reason != "" {
		s.fig("jwks_vs_nginx").Skip(reason)
		s.fig("discovery_vs_nginx").Skip(reason)
		s.note("SKIPPED: the public documents against nginx (" + reason + ")")
	}
	notJudged := place.tokenNotJudged()
	if notJudged != "" {
		s.note("NOT JUDGED: the token rate against raw signing (" + notJudged + ")")
	}
	alg, err := b.TokenAlg(ctx)
	if err != nil {
		for _, f := range []string{"token_rs256_target", "token_es256_target", "fairness_64_target", "open_loop_target"} {
			s.fig(f).Fail(err)
		}
		s.publicFigures(ctx, b)
		return
	}
	for _, a := range []string{keys.RS256, keys.ES256} {
		if a != alg {
			s.fig("token_" + lower(a) + "_target").Skip(fmt.Sprintf("the target signs its tokens with %s (the alg of a token it issued)", alg))
		}
	}
	if alg != keys.RS256 && alg != keys.ES256 {
		err := fmt.Errorf("the target signs its tokens with %s, and the load program has raw signing for RS256 and ES256 only", alg)
		for _, f := range []string{"fairness_64_target", "open_loop_target"} {
			s.fig(f).Fail(err)
		}
		s.publicFigures(ctx, b)
		return
	}
	s.serverFigures(ctx, b, alg, "target")
	if f := s.fig("token_" + lower(alg) + "_target"); notJudged != "" && f.Status == "" {
		f.Unjudged(notJudged)
	}
}

// targetPlace is where a --target server is, as far as it decides which figures compare like
// with like.
type targetPlace struct {
	// loopback: the target's host is a loopback address, so it runs on this machine and its
	// token rate shares the cores with the raw signing it is set against.
	loopback bool
	// plainHTTP: the target's URL is http, so its documents are driven by the same driver
	// (NewHTTPLoad's event loop) as nginx's on loopback; https is driven by goroutine workers.
	plainHTTP bool
}

// placeOf is the place of the server at rawURL; an unparsable URL is nowhere comparable.
func placeOf(rawURL string) targetPlace {
	u, err := url.Parse(rawURL)
	if err != nil {
		return targetPlace{}
	}
	return targetPlace{loopback: config.IsLoopbackHost(u.Hostname()), plainHTTP: u.Scheme == "http"}
}

// nginxSkip is why the target's public documents cannot be set against nginx, "" when they
// can: only a plain-http target on loopback is driven by the same driver as nginx and reached
// without a network between.
func (p targetPlace) nginxSkip() string {
	switch {
	case !p.loopback:
		return "the target is not on this machine's loopback: its documents would cross a network and be driven over TLS by goroutine workers, nginx's by the event loop on loopback, so the two are not driven alike"
	case !p.plainHTTP:
		return "the target is https: its documents would be driven over TLS by goroutine workers, nginx's over plain http by the event loop, so the two are not driven alike"
	}
	return ""
}

// tokenNotJudged is why the target's token rate is not judged against this machine's raw
// signing, "" when it is: a target off loopback runs on other cores, behind a network.
func (p targetPlace) tokenNotJudged() string {
	if p.loopback {
		return ""
	}
	return "the target is not on this machine's loopback, so its token rate (its cores, behind a network) is not comparable with this machine's raw signing"
}
