package loadgen

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/brokerhq/broker/keys"
)

// closedURL is an http URL on loopback where nothing listens.
func closedURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := "http://" + ln.Addr().String()
	ln.Close()
	return u
}

// TestUnreachableTargetPassesNothing pins that a --target run against a server that cannot be
// reached reports no figure as measured: the figures that need a child server are skipped, every
// figure of the target is an error, none is judged on its zero value (an open-loop p99 of 0 ms, an
// RSS of 0 MiB and a slope of 0 MiB/min would all pass their bars), and the client count defaults
// to DefaultClients when none is given.
// Guards against: target.go:runTarget "rss_peak" left out of the figures skipped on a target
// Guards against: target.go:runTarget "open_loop_target" left out of the figures failed when the
// alg is unknown
// Guards against: target.go:runTarget publicFigures not called when the alg cannot be read
// Guards against: suite.go:Run cfg.Clients <= 0 -> < 0 (no default client count)
func TestUnreachableTargetPassesNothing(t *testing.T) {
	report, err := Run(context.Background(), Config{Target: Broker{URL: closedURL(t), APIKey: "k", Stack: "s"}, Duration: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Status{
		"raw_sign_rs256": StatusInfo, "raw_sign_es256": StatusInfo,
		"token_rs256_target": StatusError, "token_es256_target": StatusError,
		"jwks_vs_nginx": StatusError, "discovery_vs_nginx": StatusError,
		"fairness_64_target": StatusError, "open_loop_target": StatusError,
		"rss_peak": StatusSkipped, "rss_soak_slope": StatusSkipped, "catalog_10k_vs_10": StatusSkipped,
		"catalog_10k_vs_10_es256": StatusSkipped,
	}
	for id, st := range want {
		if f := figureByID(t, report, id); f.Status != st {
			t.Errorf("%s: %s (value %v, %q), want %s", id, f.Status, f.Value, f.Detail, st)
		}
	}
	if n := DefaultClients(); !strings.Contains(figureByID(t, report, "token_rs256_target").Name, strconv.Itoa(n)+" clients") {
		t.Errorf("token figure %q, want the default %d clients", figureByID(t, report, "token_rs256_target").Name, n)
	}
}

// TestTargetSigningAnotherAlgPassesNothing pins that a target signing with an algorithm the load
// program has no raw signing for has both token figures skipped and its fairness and open loop
// reported as errors, never judged on their zero values.
// Guards against: target.go:runTarget "open_loop_target" left out of the figures failed for another
// alg
// Guards against: target.go:runTarget alg != RS256 && alg != ES256 check dropped
func TestTargetSigningAnotherAlgPassesNothing(t *testing.T) {
	b := startFakeTarget(t, fakeTarget{token: fakeJWS(`{"alg":"EdDSA"}`), algs: []string{"EdDSA"}})
	s := targetSuite(t, b, 20*time.Millisecond)
	s.runTarget(context.Background(), placeOf("https://127.0.0.1:1")) // an https place: nginx is not started
	for i := range s.report.Figures {
		s.report.Figures[i].Judge()
	}
	for id, st := range map[string]Status{
		"token_rs256_target": StatusSkipped, "token_es256_target": StatusSkipped,
		"fairness_64_target": StatusError, "open_loop_target": StatusError,
	} {
		if f := figureByID(t, s.report, id); f.Status != st {
			t.Errorf("%s: %s (value %v, %q), want %s", id, f.Status, f.Value, f.Detail, st)
		}
	}
}

// flakyTarget is fakeTarget failing one token request in ten with a 500 once 300 ms have
// passed since its last run was created: after the warm-up, within the measurement.
type flakyTarget struct {
	fakeTarget
	created atomic.Int64 // unix nanoseconds of the last run created
	tokens  atomic.Int64
}

func (p *flakyTarget) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/v1/runs":
		p.created.Store(time.Now().UnixNano())
	case "/v1/token":
		if time.Since(time.Unix(0, p.created.Load())) > 300*time.Millisecond && p.tokens.Add(1)%10 == 0 {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
	}
	p.fakeTarget.ServeHTTP(w, r)
}

// TestFailedRequestsMakeTheFigureAnError pins that token requests failing during a
// measurement (not only during its warm-up) make the token rate and fairness figures errors,
// never a rate or a p99/p50 ratio of the requests that happened to succeed.
// Guards against: figures_latency.go:fairness check("POST /v1/token", res) dropped
// Guards against: figures_tokens.go:tokenRate check("POST /v1/token", got) dropped
func TestFailedRequestsMakeTheFigureAnError(t *testing.T) {
	ft := &flakyTarget{fakeTarget: signingTarget(issuerOf(t, keys.ES256), keys.ES256)} // signed: only the 500s fail
	srv := httptest.NewServer(ft)
	t.Cleanup(srv.Close)
	b := Broker{URL: srv.URL, APIKey: "bench-key", Stack: "bench-stack"}
	s := targetSuite(t, b, 500*time.Millisecond)
	fair := s.fig("fairness_64_target")
	if err := s.fairness(context.Background(), b, fair); err == nil || !strings.Contains(err.Error(), "500") {
		t.Errorf("fairness with failing requests: %v (p99 %v ms, p50 %v ms), want an error naming the 500", err, fair.Value, fair.Reference)
	}
	tok := s.fig("token_es256_target")
	if _, err := s.tokenRate(context.Background(), b, keys.ES256, tok); err == nil || !strings.Contains(err.Error(), "500") {
		t.Errorf("token rate with failing requests: %v (ratio %v), want an error naming the 500", err, tok.Ratio)
	}
}
