package aws

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/brokerhq/broker/internal/config"
	awsemu "github.com/brokerhq/broker/internal/emulator/aws"
	"github.com/brokerhq/broker/internal/exchange"
	"github.com/brokerhq/broker/internal/runs"
)

// TestExternalIDFromAnyValidIssuer: assume-role's ExternalId,
// "<issuer host>@<integration>@<stack>@<scope>", is one STS takes ([\w+=,.@:/-]*) for every
// issuer the configuration takes: an IPv6 host is written without its brackets, and a host of
// other characters (an internationalised name not in its xn-- form) is refused by the
// configuration, before any exchange.
// Guards against: exchanger.go:ExternalID copying an IPv6 host's brackets; validate.go's
// issuerProblem taking a host of any characters
func TestExternalIDFromAnyValidIssuer(t *testing.T) {
	if err := config.CheckIssuer("https://brøker.example"); err == nil {
		t.Error("the configuration takes the issuer https://brøker.example, whose host no ExternalId may hold")
	}
	for _, issuer := range []string{"https://[2001:db8::10]", "https://[2001:db8::10]:8443", "https://broker.example.com"} {
		t.Run(issuer, func(t *testing.T) {
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
