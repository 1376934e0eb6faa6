package exchange_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/brokerhq/broker/internal/exchange"
)

// stepClock is a clock moved only by the test's exchangers.
type stepClock struct{ now time.Time }

func (c *stepClock) Now() time.Time { return c.now }

// signer is a TokenSource whose signing takes took on clock, failing with err when set.
type signer struct {
	clock *stepClock
	took  time.Duration
	err   error
}

func (s signer) Token(context.Context, exchange.TokenRequest) (string, error) {
	s.clock.now = s.clock.now.Add(s.took)
	if s.err != nil {
		return "", s.err
	}
	return "token", nil
}

// signsThenCalls is an exchanger that asks for broker's token, then calls upstream for took.
type signsThenCalls struct {
	clock *stepClock
	took  time.Duration
}

func (x signsThenCalls) Exchange(ctx context.Context, req exchange.Request) (exchange.Credentials, error) {
	if _, err := req.Tokens.Token(ctx, exchange.TokenRequest{}); err != nil {
		return exchange.Credentials{}, err
	}
	x.clock.now = x.clock.now.Add(x.took)
	return exchange.Credentials{}, nil
}

// broker_exchange_duration_seconds times the upstream call only: the time broker spends signing
// its own token (with keys held by Vault, a Transit round trip) is not in it, and an exchange
// whose token could not be signed, having called no upstream, is counted as an error but not
// timed.
func TestExchangeDurationIsTheUpstreamCall(t *testing.T) {
	tests := []struct {
		name      string
		signing   time.Duration
		signErr   error
		upstream  time.Duration
		wantCount uint64
		wantSum   float64
		outcome   string
	}{
		{name: "slow signing, fast upstream", signing: 2 * time.Second, upstream: 250 * time.Millisecond,
			wantCount: 1, wantSum: 0.25, outcome: "success"},
		{name: "signing fails", signing: 3 * time.Second, signErr: errors.New("keys: key service unavailable"),
			wantCount: 0, wantSum: 0, outcome: "error"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			clock := &stepClock{now: time.Unix(0, 0)}
			o := exchange.Observe(signsThenCalls{clock: clock, took: tc.upstream},
				exchange.ObserveConfig{Provider: "gcp", Metrics: exchange.NewMetrics(reg), Now: clock.Now})
			_, err := o.Exchange(context.Background(), exchange.Request{Tokens: signer{clock: clock, took: tc.signing, err: tc.signErr}})
			if (err != nil) != (tc.signErr != nil) {
				t.Fatalf("Exchange error %v", err)
			}
			h := sample(t, reg, "broker_exchange_duration_seconds", "gcp").GetHistogram()
			if h.GetSampleCount() != tc.wantCount || h.GetSampleSum() != tc.wantSum {
				t.Errorf("histogram: count %d sum %v, want %d and %v", h.GetSampleCount(), h.GetSampleSum(), tc.wantCount, tc.wantSum)
			}
			if got := sample(t, reg, "broker_credentials_total", "gcp", tc.outcome).GetCounter().GetValue(); got != 1 {
				t.Errorf("broker_credentials_total{outcome=%s} = %v, want 1", tc.outcome, got)
			}
		})
	}
}
