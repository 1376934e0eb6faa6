package aws

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	awsemu "github.com/brokerhq/broker/internal/emulator/aws"
	"github.com/brokerhq/broker/internal/exchange"
	"github.com/brokerhq/broker/internal/exchange/exchangetest"
	"github.com/brokerhq/broker/internal/runs"
	"github.com/brokerhq/broker/internal/testutil/oidctest"
)

// stsError is STS's error document.
func stsError(status int, code, message string) exchangetest.Fault {
	return exchangetest.Fault{Status: status, ContentType: "text/xml", Body: `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">` +
		`<Error><Type>Sender</Type><Code>` + code + `</Code><Message>` + message + `</Message></Error>` +
		`<RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId></ErrorResponse>`}
}

func TestContract(t *testing.T) {
	exchangetest.Run(t, exchangetest.Harness{
		Provider: exchange.AWS,
		Start: func(t *testing.T, h exchangetest.Env) (exchange.Exchanger, exchange.Request) {
			iss := oidctest.Start(t)
			emu := awsemu.New(awsemu.Config{Roles: []awsemu.Role{{ARN: readARN,
				Trust: awsemu.Trust{Issuer: iss.URL, Audiences: []string{exchange.AWSAudience}, Subject: subject(runs.Read)}}}})
			srv := httptest.NewServer(h.Faults.Wrap(emu))
			t.Cleanup(srv.Close)
			x := New(Options{Issuer: issuerURL, Logger: h.Logger, HTTPClient: exchange.NewHTTPClient(exchange.ClientOptions{
				Base: srv.Client().Transport, Backoff: time.Millisecond, Retryable: Retryable})})
			in := (&env{srv: srv}).integration("aws-read", readARN)
			return x, exchange.Request{Run: run(runs.Read), Integration: in, Tokens: &tokenSource{t: t, iss: iss, sub: subject(runs.Read)}}
		},
		Target: func(r *http.Request) bool { return r.Method == http.MethodPost },
		Refusal: func(message string) exchangetest.Fault {
			return stsError(http.StatusForbidden, "AccessDenied", message)
		},
		Throttle: stsError(http.StatusBadRequest, "Throttling", "Rate exceeded"),
	})
}
