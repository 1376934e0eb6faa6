package azure

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/exchange"
	"github.com/brokerhq/broker/internal/exchange/exchangetest"
)

// entraRefusal is Entra ID's error document for code AADSTS<n>.
func entraRefusal(status, n int, oauthCode, message string) exchangetest.Fault {
	body, _ := json.Marshal(map[string]any{"error": oauthCode, "error_description": "AADSTS" + itoa(n) + ": " + message,
		"error_codes": []int{n}, "timestamp": "2026-01-01 00:00:00Z", "trace_id": "t", "correlation_id": "c"})
	return exchangetest.Fault{Status: status, ContentType: "application/json", Body: string(body)}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func TestContract(t *testing.T) {
	exchangetest.Run(t, exchangetest.Harness{
		Provider: exchange.Azure,
		Start: func(t *testing.T, env exchangetest.Env) (exchange.Exchanger, exchange.Request) {
			f := newFixture(t, env.Faults.Wrap)
			x := New(Options{HTTPClient: f.httpClient(f.srv.Client().Transport), Logger: env.Logger})
			req, _ := f.request(t, f.integration("azure-read", readClient), readSubject)
			return x, req
		},
		Target: func(r *http.Request) bool {
			return r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/oauth2/v2.0/token")
		},
		Refusal: func(message string) exchangetest.Fault {
			return entraRefusal(http.StatusUnauthorized, 700213, "invalid_client", message)
		},
		Throttle: entraRefusal(http.StatusTooManyRequests, 50196, "temporarily_unavailable", "The server is busy."),
	})
}
