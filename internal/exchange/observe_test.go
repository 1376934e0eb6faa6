package exchange_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/exchange"
	"github.com/brokerhq/broker/internal/runs"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want exchange.Outcome
	}{
		{"no error", nil, exchange.Success},
		{"403 refusal", exchange.Upstream("aws", exchange.UpstreamAnswer{Status: 403, Code: "AccessDenied", Message: "no"}), exchange.Denied},
		{"400 refusal", exchange.Upstream("gcp", exchange.UpstreamAnswer{Status: 400, Code: "invalid_grant", Message: "no"}), exchange.Denied},
		{"401 refusal, wrapped", fmt.Errorf("azure: %w", exchange.Upstream("azure", exchange.UpstreamAnswer{Status: 401, Code: "AADSTS700213", Message: "no"})), exchange.Denied},
		{"throttled 400", &exchange.UpstreamError{Provider: "aws", Status: 400, Code: "Throttling", Throttled: true}, exchange.Error},
		{"429", exchange.Upstream("vault", exchange.UpstreamAnswer{Status: 429, Message: "slow down"}), exchange.Error},
		{"408", exchange.Upstream("vault", exchange.UpstreamAnswer{Status: 408, Message: "timeout"}), exchange.Error},
		{"503", exchange.Upstream("vault", exchange.UpstreamAnswer{Status: 503, Message: "sealed"}), exchange.Error},
		{"no answer", exchange.Upstream("vault", exchange.UpstreamAnswer{Message: "connection refused"}), exchange.Error},
		{"2xx unusable", exchange.Upstream("vault", exchange.UpstreamAnswer{Status: 200, Message: "no client token"}), exchange.Error},
		{"caller canceled", fmt.Errorf("gcp exchange: %w", context.Canceled), exchange.Error},
		{"corrupt run", fmt.Errorf("aws exchange: %w", runs.ErrCorrupt), exchange.Denied},
		{"anything else", errors.New("mint: no signing key"), exchange.Error},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := exchange.Classify(tc.err); got != tc.want {
				t.Errorf("Classify(%v) = %s, want %s", tc.err, got, tc.want)
			}
		})
	}
}

// fixed is an exchanger that answers the same every time.
type fixed struct {
	creds exchange.Credentials
	err   error
}

func (f fixed) Exchange(context.Context, exchange.Request) (exchange.Credentials, error) {
	return f.creds, f.err
}

const secretToken = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJydW4ifQ.c2lnbmF0dXJl"

func TestObserve(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := exchange.NewMetrics(reg)
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	clock := time.Unix(0, 0)
	now := func() time.Time { clock = clock.Add(250 * time.Millisecond); return clock }
	req := exchange.Request{Run: runs.Run{ID: "01RUN", Stack: "vpc"}, Integration: config.Integration{ID: "aws-prod"}}

	cases := []struct {
		x    exchange.Exchanger
		want map[string]any
	}{
		{fixed{creds: exchange.Credentials{Env: map[string]string{"AWS_SESSION_TOKEN": secretToken}}},
			map[string]any{"outcome": "success"}},
		{fixed{err: exchange.Upstream("aws", exchange.UpstreamAnswer{Status: 403, Code: "AccessDenied", Message: "Not authorized with " + secretToken})},
			map[string]any{"outcome": "denied", "upstream_status": 403.0, "upstream_code": "AccessDenied",
				"err": "answered 403 AccessDenied: Not authorized with [redacted-jwt]"}},
		{fixed{err: exchange.Upstream("aws", exchange.UpstreamAnswer{Status: 503, Message: "unavailable"})},
			map[string]any{"outcome": "error", "upstream_status": 503.0, "err": "answered 503: unavailable"}},
		{fixed{err: errors.New("mint failed for " + secretToken)},
			map[string]any{"outcome": "error", "err": "mint failed for [redacted-jwt]"}},
	}
	for i, tc := range cases {
		logs.Reset()
		o := exchange.Observe(tc.x, exchange.ObserveConfig{Provider: "aws", Logger: log, Metrics: m, Now: now})
		if _, err := o.Exchange(context.Background(), req); (err != nil) != (tc.want["outcome"] != "success") {
			t.Fatalf("case %d: err = %v", i, err)
		}
		if strings.Contains(logs.String(), secretToken) {
			t.Errorf("case %d: the log holds the token: %s", i, logs.String())
		}
		var line map[string]any
		if err := json.Unmarshal(logs.Bytes(), &line); err != nil {
			t.Fatalf("case %d: want one JSON line, got %q", i, logs.String())
		}
		want := map[string]any{"level": "INFO", "msg": "exchange", "provider": "aws", "integration": "aws-prod",
			"stack": "vpc", "run": "01RUN", "duration": float64(250 * time.Millisecond)}
		for k, v := range tc.want {
			want[k] = v
		}
		for k, v := range want {
			if line[k] != v {
				t.Errorf("case %d: %s = %v, want %v", i, k, line[k], v)
			}
		}
		for k := range line {
			if _, ok := want[k]; !ok && k != "time" {
				t.Errorf("case %d: unexpected field %s = %v", i, k, line[k])
			}
		}
	}
	for outcome, want := range map[string]float64{"success": 1, "denied": 1, "error": 2} {
		if got := sample(t, reg, "broker_credentials_total", "aws", outcome).GetCounter().GetValue(); got != want {
			t.Errorf("broker_credentials_total{provider=aws,outcome=%s} = %v, want %v", outcome, got, want)
		}
	}
	if got := sample(t, reg, "broker_credentials_total", "gcp", "success").GetCounter().GetValue(); got != 0 {
		t.Errorf("gcp success = %v", got)
	}
	if n := testutil.CollectAndCount(reg, "broker_credentials_total"); n != 12 {
		t.Errorf("broker_credentials_total has %d series, want 4 providers x 3 outcomes", n)
	}
	h := sample(t, reg, "broker_exchange_duration_seconds", "aws").GetHistogram()
	if h.GetSampleCount() != 4 || h.GetSampleSum() != 1.0 {
		t.Errorf("aws duration histogram: count %d sum %v, want 4 and 1s", h.GetSampleCount(), h.GetSampleSum())
	}
}

// sample returns the series of family name whose label values are values, in the order the
// labels were declared (provider, then outcome).
func sample(t *testing.T, reg *prometheus.Registry, name string, values ...string) *dto.Metric {
	names := map[string][]string{"broker_credentials_total": {"provider", "outcome"}, "broker_exchange_duration_seconds": {"provider"}}[name]
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	series:
		for _, m := range f.GetMetric() {
			if len(m.GetLabel()) != len(values) {
				continue
			}
			for _, l := range m.GetLabel() {
				if i := slices.Index(names, l.GetName()); i < 0 || l.GetValue() != values[i] {
					continue series
				}
			}
			return m
		}
	}
	t.Fatalf("no series %s%v", name, values)
	return nil
}

// Whatever a provider checked, Observed never hands out credentials already expired: they fail
// as an unusable upstream answer (an error, not a refusal) that names no secret. Credentials
// without an expiry (which the providers refuse themselves) and valid ones pass.
func TestObservedRefusesExpiredCredentials(t *testing.T) {
	now := time.Date(2026, 12, 3, 6, 0, 0, 0, time.UTC)
	secret := map[string]string{"TOKEN": "s3cret-credential"}
	for _, tc := range []struct {
		name    string
		expires time.Time
		ok      bool
	}{
		{"expired", now.Add(-time.Minute), false},
		{"expiring now", now, false},
		{"no expiry", time.Time{}, true},
		{"valid", now.Add(time.Hour), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := exchange.Observe(fixed{creds: exchange.Credentials{ExpiresAt: tc.expires, Env: secret}},
				exchange.ObserveConfig{Provider: "vault", Now: func() time.Time { return now }})
			creds, err := o.Exchange(context.Background(), exchange.Request{})
			if tc.ok {
				if err != nil || creds.Env["TOKEN"] == "" {
					t.Fatalf("Exchange = %+v, %v; want the credentials", creds, err)
				}
				return
			}
			var ue *exchange.UpstreamError
			if !errors.As(err, &ue) || ue.Status != 200 || exchange.Classify(err) != exchange.Error {
				t.Fatalf("Exchange error %v, want an unusable upstream answer", err)
			}
			if creds.Env != nil || strings.Contains(err.Error(), "s3cret") {
				t.Errorf("credentials %+v or error %q leak what was refused", creds, err)
			}
		})
	}
}
