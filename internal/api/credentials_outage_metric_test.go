package api_test

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/brokerhq/broker/internal/apierror"
	"github.com/brokerhq/broker/internal/exchange"
	"github.com/brokerhq/broker/internal/runs"
	"github.com/prometheus/client_golang/prometheus"
)

// outageAfter is an exchanger that grants credentials (as fakeExchanger) and then
// makes the catalog's store unreachable: down is set once it answers.
type outageAfter struct{ down *atomic.Bool }

func (p outageAfter) Exchange(
	ctx context.Context, req exchange.Request,
) (exchange.Credentials, error) {
	creds, err := fakeExchanger{}.Exchange(ctx, req)
	p.down.Store(true)
	return creds, err
}

// TestWithheldByOutageCountsAsError: broker_credentials_total counts as "denied" the
// credentials withheld because the run, its stack or its attachments changed meanwhile, and
// as "error" those withheld by an outage (README, metrics table). Credentials granted and then
// withheld because the catalog's store could no longer be confirmed (503 unavailable) count
// once, as error, never as denied.
func TestWithheldByOutageCountsAsError(t *testing.T) {
	var down atomic.Bool
	reg := prometheus.NewRegistry()
	metrics := exchange.NewMetrics(reg)
	aws := exchange.Observe(outageAfter{down: &down},
		exchange.ObserveConfig{Provider: "aws", Metrics: metrics})
	current := func(context.Context) error {
		if down.Load() {
			return apierror.New(apierror.CodeUnavailable, "The catalog store is unreachable.")
		}
		return nil
	}
	h := newRunsHarnessWith(t, harnessOptions{aws: aws, current: current})
	run := h.start(t, runs.Tracked, runs.Planning)
	code, _ := h.call(t, request{path: "/v1/credentials", bearer: run.RunToken,
		body: map[string]string{"provider": "aws"}})
	if code != http.StatusServiceUnavailable {
		t.Fatalf("credentials with the catalog store gone after the exchange: %d, want 503", code)
	}
	want := map[string]float64{"success": 0, "denied": 0, "error": 1}
	for outcome, n := range want {
		if got := credentialsCount(t, reg, outcome); got != n {
			t.Errorf("broker_credentials_total{aws,%s} = %v, want %v", outcome, got, n)
		}
	}
}

// credentialsCount is the value of broker_credentials_total{provider="aws",outcome=outcome} in
// reg, -1 when absent.
func credentialsCount(t *testing.T, reg *prometheus.Registry, outcome string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "broker_credentials_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["provider"] == "aws" && labels["outcome"] == outcome {
				return m.GetCounter().GetValue()
			}
		}
	}
	return -1
}
