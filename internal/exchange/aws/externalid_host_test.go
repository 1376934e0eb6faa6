package aws

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/brokerhq/broker/internal/config"
	awsemu "github.com/brokerhq/broker/internal/emulator/aws"
	"github.com/brokerhq/broker/internal/exchange"
	"github.com/brokerhq/broker/internal/runs"
)

// TestExternalIDFromAnyValidIssuer: assume-role's ExternalId,
// "<issuer host>@<integration>@<stack>@<scope>", is one STS takes ([\w+=,.@:/-]*, at most 1,224
// characters) for every issuer the configuration takes: a DNS name up to DNS's lengths or an
// IPv4 address. A host of other characters (an internationalised name not in its xn-- form) or
// longer than DNS allows is refused by the configuration, before any exchange (and an IPv6 host
// for assume-role, see TestIPv6IssuerRefusedForAssumeRoleOnly).
// Guards against: validate.go's issuerProblem taking a host of any characters or length
func TestExternalIDFromAnyValidIssuer(t *testing.T) {
	label := strings.Repeat("a", 63)
	for _, issuer := range []string{"https://brøker.example", "https://" + strings.Repeat("a", 1230) + ".example",
		"https://" + strings.Repeat("a", 64) + ".example.com"} {
		if err := config.CheckIssuer(issuer); err == nil {
			t.Errorf("the configuration takes the issuer %.60s..., whose host no DNS name or ExternalId may hold", issuer)
		}
	}
	longest := "https://" + label + "." + label + "." + label + "." + strings.Repeat("b", 61) // 253 characters
	for _, issuer := range []string{"https://broker.example.com", "https://192.0.2.10:8443", "https://my_broker.example.com", longest} {
		t.Run(issuer[:min(len(issuer), 40)], func(t *testing.T) {
			if err := config.CheckIssuer(issuer); err != nil {
				t.Fatalf("config refuses the issuer: %v", err)
			}
			want := ExternalID(config.IssuerHost(issuer), "aws-assume-read", exchange.StackScope{Stack: stack, Scope: runs.Read})
			emu := awsemu.New(awsemu.Config{
				Region:     assumeRegion,
				AccessKeys: map[string]string{brokerKey: brokerSecret},
				Roles:      []awsemu.Role{{ARN: assumeRead, Trust: awsemu.Trust{Principals: []string{brokerKey}, ExternalID: want}}},
			})
			mux := http.NewServeMux()
			mux.Handle("/sts/", http.StripPrefix("/sts", emu))
			srv := httptest.NewServer(mux)
			defer srv.Close()
			x := New(Options{Issuer: issuer, HTTPClient: fastClient(),
				BaseCredentials: credentials.NewStaticCredentialsProvider(brokerKey, brokerSecret, "")})
			_, err := x.Exchange(context.Background(), exchange.Request{Run: run(runs.Read),
				Integration: assumeIntegration("aws-assume-read", assumeRead, srv.URL+"/sts/"), Tokens: noTokens{t}})
			if err != nil {
				t.Fatalf("issuer %s (accepted by config): assume-role with ExternalId %q failed: %v", issuer, want, err)
			}
		})
	}
}
