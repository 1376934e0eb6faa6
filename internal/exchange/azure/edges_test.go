package azure

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/exchange"
)

// TestFederatedTokenIsRS256: both tokens an Azure exchange mints, the assertion sent to Entra and
// the AZURE_FEDERATED_TOKEN handed to the run (which the run presents to Entra itself), are asked
// for with Entra's only algorithm, RS256.
// Guards against: internal/exchange/azure/azure.go:158 AZURE_FEDERATED_TOKEN minted without
// Algorithm
func TestFederatedTokenIsRS256(t *testing.T) {
	f := newFixture(t, nil)
	req, ts := f.request(t, f.integration("az-read", readClient), readSubject)
	creds, err := f.x.Exchange(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if creds.Env[EnvOIDCToken] == "" {
		t.Fatalf("no %s handed to the run", EnvOIDCToken)
	}
	if algs := ts.asked(); !slices.Equal(algs, []string{exchange.AzureAlgorithm, exchange.AzureAlgorithm}) {
		t.Errorf("tokens asked with algorithms %v, want the assertion and the run's token both %s", algs, exchange.AzureAlgorithm)
	}
}

// TestIssuerUnreachableIsNotARefusal: Entra's AADSTS50166 (it could not fetch broker's discovery
// document or JWKS) is an outage on broker's side: the exchange fails as an error (502, counted
// "error"), never as a refusal of the caller ("denied"), while other 400s are.
// Guards against: internal/exchange/azure/errors.go:101 drop `up.Throttled = code ==
// issuerUnreachable`
func TestIssuerUnreachableIsNotARefusal(t *testing.T) {
	for _, tc := range []struct {
		name       string
		body       string
		code       string
		wantDenied bool
	}{
		{"issuer unreachable", `{"error":"invalid_client","error_description":"AADSTS50166: Request to External OIDC endpoint failed.","error_codes":[50166]}`, "AADSTS50166", false},
		{"no matching federated identity", `{"error":"invalid_request","error_description":"AADSTS70021: No matching federated identity record found.","error_codes":[70021]}`, "AADSTS70021", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, func(next http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/oauth2/v2.0/token") {
						w.Header().Set("Content-Type", "application/json")
						w.WriteHeader(http.StatusBadRequest)
						_, _ = w.Write([]byte(tc.body))
						return
					}
					next.ServeHTTP(w, r)
				})
			})
			req, _ := f.request(t, f.integration("az-read", readClient), readSubject)
			_, err := f.x.Exchange(context.Background(), req)
			var up *exchange.UpstreamError
			if !errors.As(err, &up) {
				t.Fatalf("err %T %v, want *exchange.UpstreamError", err, err)
			}
			if up.Status != http.StatusBadRequest || up.Code != tc.code {
				t.Fatalf("upstream error %+v, want 400 %s", up, tc.code)
			}
			wantOutcome := exchange.Error
			if tc.wantDenied {
				wantOutcome = exchange.Denied
			}
			if up.Denied() != tc.wantDenied || exchange.Classify(err) != wantOutcome {
				t.Errorf("Denied() = %v, Classify = %s; want %v, %s", up.Denied(), exchange.Classify(err), tc.wantDenied, wantOutcome)
			}
		})
	}
}
