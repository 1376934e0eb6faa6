package api

import (
	"errors"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/apierror"
	"github.com/brokerhq/broker/internal/exchange"
)

// TestUpstreamMessagesSayEachThingOnce requires the 502 message of a failed exchange to name the
// provider once and say once what could not be reached, for every provider's kinds of failure
// (shaped as each exchanger builds them).
func TestUpstreamMessagesSayEachThingOnce(t *testing.T) {
	cases := []struct {
		name string
		err  *exchange.UpstreamError
		want string
	}{
		{"aws unreachable", exchange.Upstream(exchange.AWS, exchange.UpstreamAnswer{Message: "STS at http://127.0.0.1:1/sts could not be reached: timeout"}),
			"The aws exchange failed: STS at http://127.0.0.1:1/sts could not be reached: timeout."},
		{"aws refused", exchange.Upstream(exchange.AWS, exchange.UpstreamAnswer{Status: 403, Code: "AccessDenied", Message: "Not authorized to perform sts:AssumeRoleWithWebIdentity"}),
			"The aws exchange failed: answered 403 AccessDenied: Not authorized to perform sts:AssumeRoleWithWebIdentity."},
		{"gcp unreachable", exchange.Upstream(exchange.GCP, exchange.UpstreamAnswer{Message: "STS token exchange: dial tcp 127.0.0.1:1: connect: connection refused"}),
			"The gcp exchange failed: STS token exchange: dial tcp 127.0.0.1:1: connect: connection refused."},
		{"gcp refused", exchange.Upstream(exchange.GCP, exchange.UpstreamAnswer{Status: 400, Code: "invalid_grant", Message: "STS token exchange: The audience does not match"}),
			"The gcp exchange failed: answered 400 invalid_grant: STS token exchange: The audience does not match."},
		{"azure unreachable", exchange.Upstream(exchange.Azure, exchange.UpstreamAnswer{Message: "Entra ID at https://127.0.0.1:1/entra could not be reached: connection refused"}),
			"The azure exchange failed: Entra ID at https://127.0.0.1:1/entra could not be reached: connection refused."},
		{"azure refused", exchange.Upstream(exchange.Azure, exchange.UpstreamAnswer{Status: 401, Code: "AADSTS700213", Message: "No matching federated identity record found."}),
			"The azure exchange failed: answered 401 AADSTS700213: No matching federated identity record found."},
		{"vault unreachable", exchange.Upstream(exchange.Vault, exchange.UpstreamAnswer{Message: "no answer within 5s"}),
			"The vault exchange failed: no answer within 5s."},
		{"vault refused", exchange.Upstream(exchange.Vault, exchange.UpstreamAnswer{Status: 400, Message: "role \"ci\" could not be found"}),
			"The vault exchange failed: answered 400: role \"ci\" could not be found."},
		{"no message", exchange.Upstream(exchange.Vault, exchange.UpstreamAnswer{}),
			"The vault exchange failed: could not be reached."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var ae *apierror.Error
			if !errors.As(exchangeError(tc.err.Provider, tc.err), &ae) || ae.Code != apierror.CodeUpstream {
				t.Fatalf("not an upstream_error: %v", ae)
			}
			if ae.Message != tc.want {
				t.Errorf("message\n %q\nwant\n %q", ae.Message, tc.want)
			}
			if n := strings.Count(strings.ToLower(ae.Message), tc.err.Provider); n != 1 {
				t.Errorf("names %s %d times: %q", tc.err.Provider, n, ae.Message)
			}
			if n := strings.Count(ae.Message, "could not be reached"); n > 1 {
				t.Errorf("says 'could not be reached' %d times: %q", n, ae.Message)
			}
		})
	}
}
