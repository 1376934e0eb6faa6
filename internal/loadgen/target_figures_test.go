package loadgen

import (
	"context"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/brokerhq/broker/keys"
)

// slowTarget is fakeTarget answering one token request in every 20 after a 20 ms pause, so the
// tail of its latencies (p99) is far from their middle (p50).
type slowTarget struct {
	fakeTarget
	tokens atomic.Int64
}

func (s *slowTarget) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/v1/token" && s.tokens.Add(1)%20 == 0 {
		time.Sleep(20 * time.Millisecond)
	}
	s.fakeTarget.ServeHTTP(w, r)
}

// TestTargetFiguresComputeTheirRatiosAndPercentiles measures a fake target on loopback and pins the
// arithmetic of each figure: the token rate's ratio is rate ÷ raw signing rate with a CPU
// comparison against the driver's signing CPU, its raw segments are the run's raw signing
// reference; fairness is p99 ÷ p50 (never the inverse, which always passes); the open loop runs at
// half the saturated token rate and reports its p99; the public documents' ratio is broker ÷ nginx.
// Guards against: figures_tokens.go:68 f.Value / f.Reference -> f.Reference / f.Value
// Guards against: figures_tokens.go:69 cpuCost(..., refOnDriver) -> refOnServer
// Guards against: figures_tokens.go:66 s.refs[alg].Add(ref) dropped
// Guards against: figures_latency.go:24 ms(p[1]), ms(p[0]) -> ms(p[0]), ms(p[1])
// Guards against: figures_latency.go:25 f.Value / f.Reference -> f.Reference / f.Value
// Guards against: figures_latency.go:49 rate := sat.rate/2 -> sat.rate
// Guards against: figures_latency.go:68 f.Value = ms(p[1]) -> ms(p[0])
// Guards against: figures_public.go:91 f.Value / f.Reference -> f.Reference / f.Value
func TestTargetFiguresComputeTheirRatiosAndPercentiles(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIPPED in -short mode: measures a fake target for about 3 s")
	}
	st := &slowTarget{fakeTarget: signingTarget(issuerOf(t, keys.ES256), keys.ES256)} // signed tokens: a sample is verified
	srv := httptest.NewServer(st)
	t.Cleanup(srv.Close)
	b := Broker{URL: srv.URL, APIKey: "bench-key", Stack: "bench-stack", Pid: os.Getpid()} // the fake runs in this process
	s := targetSuite(t, b, 200*time.Millisecond)
	s.runTarget(context.Background(), placeOf(b.URL))
	for i := range s.report.Figures {
		s.report.Figures[i].Judge()
	}
	near := func(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(math.Abs(a), math.Abs(b)) }

	tok := figureByID(t, s.report, "token_es256_target")
	if tok.Status != StatusPass && tok.Status != StatusFail {
		t.Fatalf("token_es256_target: %s %q", tok.Status, tok.Detail)
	}
	if tok.Value <= 0 || tok.Reference <= 0 || !near(tok.Ratio, tok.Value/tok.Reference) {
		t.Errorf("token ratio %v, want value %v ÷ reference %v", tok.Ratio, tok.Value, tok.Reference)
	}
	if tok.CPU == nil || tok.CPU.RefPerOp <= 0 || tok.CPU.ServerPerOp <= 0 {
		t.Errorf("token CPU %+v, want the server's CPU set against the raw signing's (the driver's)", tok.CPU)
	}
	if ref := s.refs[keys.ES256]; ref.Count == 0 || !near(ref.Rate(), tok.Reference) {
		t.Errorf("raw ES256 segments of the run: %d signatures at %v/s, want the token figure's reference %v/s", ref.Count, ref.Rate(), tok.Reference)
	}

	fair := figureByID(t, s.report, "fairness_64_target")
	if fair.Status != StatusPass && fair.Status != StatusFail {
		t.Fatalf("fairness_64_target: %s %q", fair.Status, fair.Detail)
	}
	if fair.Value < 19 || fair.Reference >= fair.Value || !near(fair.Ratio, fair.Value/fair.Reference) {
		t.Errorf("fairness: p99 %v ms, p50 %v ms, ratio %v; want p99 >= 20 ms (1 in 20 waits 20 ms), p50 below it, ratio p99 ÷ p50", fair.Value, fair.Reference, fair.Ratio)
	}

	open := figureByID(t, s.report, "open_loop_target")
	if open.Status != StatusPass && open.Status != StatusFail {
		t.Fatalf("open_loop_target: %s %q", open.Status, open.Detail)
	}
	if open.Reference != tok.Value/2 {
		t.Errorf("open loop scheduled at %v req/s, want half the saturated %v tokens/s", open.Reference, tok.Value)
	}
	if open.Value < 19 || open.Status != StatusFail {
		t.Errorf("open loop p99 %v ms (%s), want at least 20 ms (1 in 20 waits 20 ms): fail", open.Value, open.Status)
	}

	for _, id := range []string{"jwks_vs_nginx", "discovery_vs_nginx"} {
		f := figureByID(t, s.report, id)
		if f.Status == StatusSkipped {
			t.Logf("%s skipped: %s", id, f.Detail)
			continue
		}
		if (f.Status != StatusPass && f.Status != StatusFail) || !near(f.Ratio, f.Value/f.Reference) {
			t.Errorf("%s: %s, ratio %v, want broker %v ÷ nginx %v (%s)", id, f.Status, f.Ratio, f.Value, f.Reference, f.Detail)
		}
	}
}

// failingAfterFirst answers the first token request (the one telling the alg) and refuses the
// rest, so the token rate's measurement fails.
type failingAfterFirst struct {
	fakeTarget
	tokens atomic.Int64
}

func (f *failingAfterFirst) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/v1/token" && f.tokens.Add(1) > 1 {
		w.WriteHeader(http.StatusForbidden)
		w.Write([]byte(`{"error":{"code":"forbidden","message":"no"}}`))
		return
	}
	f.fakeTarget.ServeHTTP(w, r)
}

// TestRemoteTargetsFailedTokenRateStaysAnError pins that a remote target's token figure whose
// measurement failed is reported as an error, not turned into information ("not judged").
// Guards against: target.go:56 notJudged != "" && f.Status == "" -> notJudged != ""
func TestRemoteTargetsFailedTokenRateStaysAnError(t *testing.T) {
	ft := &failingAfterFirst{fakeTarget: fakeTarget{token: fakeJWS(`{"alg":"ES256"}`), algs: []string{keys.ES256}}}
	srv := httptest.NewServer(ft)
	t.Cleanup(srv.Close)
	b := Broker{URL: srv.URL, APIKey: "bench-key", Stack: "bench-stack"}
	s := targetSuite(t, b, 50*time.Millisecond)
	s.runTarget(context.Background(), placeOf("https://broker.example.com"))
	for i := range s.report.Figures {
		s.report.Figures[i].Judge()
	}
	if f := figureByID(t, s.report, "token_es256_target"); f.Status != StatusError || !strings.Contains(f.Detail, "403") {
		t.Errorf("token_es256_target: %s %q, want an error naming the refusal", f.Status, f.Detail)
	}
}
