package azure

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/exchange"
	"github.com/brokerhq/broker/internal/exchange/exchangetest"
)

// entraRefusal is an error Entra ID answers with: the HTTP status, the number of its AADSTS
// code, the OAuth error code and the message.
type entraRefusal struct {
	status    int
	aadsts    int
	oauthCode string
	message   string
}

// fault is Entra ID's error document for e, code AADSTS<aadsts>, as the harness's scripted answer.
func (e entraRefusal) fault() exchangetest.Fault {
	body, _ := json.Marshal(map[string]any{"error": e.oauthCode, "error_description": "AADSTS" + itoa(e.aadsts) + ": " + e.message,
		"error_codes": []int{e.aadsts}, "timestamp": "2026-01-01 00:00:00Z", "trace_id": "t", "correlation_id": "c"})
	return exchangetest.Fault{Status: e.status, ContentType: "application/json", Body: string(body)}
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
			return entraRefusal{status: http.StatusUnauthorized, aadsts: 700213, oauthCode: "invalid_client", message: message}.fault()
		},
		Throttle: entraRefusal{status: http.StatusTooManyRequests, aadsts: 50196, oauthCode: "temporarily_unavailable", message: "The server is busy."}.fault(),
	})
}
