package gcp

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/exchange"
	"github.com/brokerhq/broker/internal/exchange/exchangetest"
)

func TestContract(t *testing.T) {
	exchangetest.Run(t, exchangetest.Harness{
		Provider: exchange.GCP,
		Start: func(t *testing.T, env exchangetest.Env) (exchange.Exchanger, exchange.Request) {
			f := newFixture(t)
			srv := httptest.NewServer(env.Faults.Wrap(f.emu))
			t.Cleanup(srv.Close)
			f.srv = srv
			x := New(Options{Logger: env.Logger, HTTPClient: exchange.NewHTTPClient(exchange.ClientOptions{
				Base: srv.Client().Transport, Backoff: time.Millisecond})})
			req, _ := f.request(t, "read", f.integration(readerSA))
			return x, req
		},
		Target: func(r *http.Request) bool { return r.Method == http.MethodPost && r.URL.Path == "/v1/token" },
		Refusal: func(message string) exchangetest.Fault {
			body, _ := json.Marshal(map[string]string{"error": "invalid_grant", "error_description": message})
			return exchangetest.Fault{Status: http.StatusBadRequest, ContentType: "application/json", Body: string(body)}
		},
		Throttle: exchangetest.Fault{Status: http.StatusTooManyRequests, ContentType: "application/json",
			Body: `{"error": {"code": 429, "message": "Quota exceeded", "status": "RESOURCE_EXHAUSTED"}}`},
	})
}
