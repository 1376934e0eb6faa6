package aws

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/brokerhq/broker/internal/exchange"
	"github.com/brokerhq/broker/internal/runs"
)

// TestAssumeRoleEchoedCredentialsScrubbed: an STS (or a proxy before it) that echoes the signed
// request in its error, as SignatureDoesNotMatch does, never passes broker's own session token
// or secret key to the caller or the log.
func TestAssumeRoleEchoedCredentialsScrubbed(t *testing.T) {
	const brokerSession = "IQoJb3JpZ2luX2VjEBrokerOwnSessionToken0123456789abcdefSECRET"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte(`<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>` +
			r.Header.Get("X-Amz-Security-Token") + `</Code><Message>request with security token ` + r.Header.Get("X-Amz-Security-Token") +
			` and key ` + brokerSecret + ` is not authorized</Message></Error><RequestId>r</RequestId></ErrorResponse>`))
	}))
	t.Cleanup(srv.Close)
	var logs logBuffer
	x := exchange.Observe(New(Options{Issuer: issuerURL, HTTPClient: fastClient(), Logger: logs.logger(),
		BaseCredentials: credentials.NewStaticCredentialsProvider(brokerKey, brokerSecret, brokerSession)}),
		exchange.ObserveConfig{Provider: exchange.AWS, Logger: logs.logger()})
	in := assumeIntegration("aws-assume-read", assumeRead, srv.URL)
	_, err := x.Exchange(context.Background(), exchange.Request{Run: run(runs.Read), Integration: in, Tokens: noTokens{t}})
	if err == nil || !strings.Contains(err.Error(), "[redacted]") {
		t.Fatalf("error %v, want STS's refusal with the echoed credentials redacted", err)
	}
	for _, secret := range []string{brokerSession, brokerSecret} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("broker's own credentials reach the caller: %v", err)
		}
		if strings.Contains(logs.String(), secret) {
			t.Errorf("broker's own credentials in the log:\n%s", logs.String())
		}
	}
}
