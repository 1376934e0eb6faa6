package exchange

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/config"
)

// steppedClock is a clock moved only by the test's exchangers and token sources.
type steppedClock struct{ now time.Time }

func (c *steppedClock) Now() time.Time { return c.now }

// timedSigner advances the clock by took per token and fails the first fails calls.
type timedSigner struct {
	clock *steppedClock
	took  time.Duration
	fails *int
}

func (s timedSigner) Token(context.Context, TokenRequest) (string, error) {
	s.clock.now = s.clock.now.Add(s.took)
	if *s.fails > 0 {
		*s.fails--
		return "", errors.New("signing failed")
	}
	return "token", nil
}

// scriptedExchanger asks for tokens until one is signed (at most three times), then spends took
// upstream and returns creds expiring at expires.
type scriptedExchanger struct {
	clock   *steppedClock
	took    time.Duration
	expires time.Time
}

func (x scriptedExchanger) Exchange(ctx context.Context, req Request) (Credentials, error) {
	var err error
	for range 3 {
		if _, err = req.Tokens.Token(ctx, TokenRequest{}); err == nil {
			break
		}
	}
	if err != nil {
		return Credentials{}, err
	}
	x.clock.now = x.clock.now.Add(x.took)
	return Credentials{ExpiresAt: x.expires, Env: map[string]string{"K": "v"}}, nil
}

// recordingObserver records observed values.
type recordingObserver struct{ values []float64 }

func (o *recordingObserver) Observe(v float64) { o.values = append(o.values, v) }

func observeScripted(x scriptedExchanger, fails int) (*recordingObserver, Credentials, error) {
	obs := &recordingObserver{}
	o := Observe(x, ObserveConfig{Provider: Vault, Now: x.clock.Now})
	o.metrics.duration = obs
	creds, err := o.Exchange(context.Background(), Request{Tokens: timedSigner{clock: x.clock, took: time.Second, fails: &fails}})
	return obs, creds, err
}

// TestCredentialsExpiredByTheEndOfTheExchange: credentials that expire while the exchange
// runs (after it started, before it ended) are refused as an unusable 200 answer.
// Guards against: observe.go:expiry compared with the exchange's start instead of its end
func TestCredentialsExpiredByTheEndOfTheExchange(t *testing.T) {
	clock := &steppedClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	x := scriptedExchanger{clock: clock, took: 10 * time.Second, expires: clock.now.Add(5 * time.Second)}
	_, creds, err := observeScripted(x, 0)
	var up *UpstreamError
	if !errors.As(err, &up) || up.Status != http.StatusOK || creds.Env != nil {
		t.Fatalf("Exchange = %+v, %v; want an unusable 200 answer", creds, err)
	}
}

// TestSigningRetriedStillTimed: an exchange whose token signing failed once but then
// succeeded made its upstream call, so its duration is observed.
// Guards against: observe.go:upstream skips timing whenever a signing failed, even on success
func TestSigningRetriedStillTimed(t *testing.T) {
	clock := &steppedClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	x := scriptedExchanger{clock: clock, took: 2 * time.Second, expires: clock.now.Add(time.Hour)}
	obs, _, err := observeScripted(x, 1)
	if err != nil || len(obs.values) != 1 || obs.values[0] != 2 {
		t.Fatalf("err %v, observed %v; want one observation of 2s", err, obs.values)
	}
}

// TestUpstreamDurationNeverNegative: when the clock steps back during the exchange, the
// upstream duration observed is clamped at zero.
// Guards against: observe.go:upstream without the clamp at zero
func TestUpstreamDurationNeverNegative(t *testing.T) {
	clock := &steppedClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	x := scriptedExchanger{clock: clock, took: -5 * time.Second, expires: clock.now.Add(time.Hour)}
	obs, _, err := observeScripted(x, 0)
	if err != nil || len(obs.values) != 1 || obs.values[0] != 0 {
		t.Fatalf("err %v, observed %v; want one observation of 0", err, obs.values)
	}
}

type ctxKey struct{}

// ctxHandler records the context value under ctxKey of each record it handles.
type ctxHandler struct{ seen *[]any }

func (h ctxHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h ctxHandler) Handle(ctx context.Context, _ slog.Record) error {
	*h.seen = append(*h.seen, ctx.Value(ctxKey{}))
	return nil
}
func (h ctxHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h ctxHandler) WithGroup(string) slog.Handler      { return h }

// TestLogLineSeesCallersContext: the exchange's log line is handled with the caller's
// context, so request-scoped values reach it.
// Guards against: observe.go:log line written with context.Background()
func TestLogLineSeesCallersContext(t *testing.T) {
	var seen []any
	clock := &steppedClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	o := Observe(scriptedExchanger{clock: clock, expires: clock.now.Add(time.Hour)},
		ObserveConfig{Provider: Vault, Now: clock.Now, Logger: slog.New(ctxHandler{seen: &seen})})
	fails := 0
	ctx := context.WithValue(context.Background(), ctxKey{}, "req-1")
	if _, err := o.Exchange(ctx, Request{Integration: config.Integration{ID: "v"}, Tokens: timedSigner{clock: clock, fails: &fails}}); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 1 || seen[0] != "req-1" {
		t.Errorf("log handler saw context values %v, want [req-1]", seen)
	}
}
