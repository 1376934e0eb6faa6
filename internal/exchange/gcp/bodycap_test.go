package gcp

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/exchange"
	"github.com/brokerhq/broker/internal/runs"
	"github.com/brokerhq/broker/internal/testutil/oidctest"
)

// TestBodyCappedWhateverTheClient: the exchanger caps every upstream body at
// exchange.MaxResponseBytes itself, even on a caller's client whose transport does not (only its
// Transport is used): an STS answer over the cap fails as an upstream error saying so, rather than
// being read in full and quoted.
// Guards against: internal/exchange/gcp/upstream.go:51 drop the `len(body) >
// exchange.MaxResponseBytes` check
func TestBodyCappedWhateverTheClient(t *testing.T) {
	iss := oidctest.Start(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(strings.Repeat("x", exchange.MaxResponseBytes+1)))
	}))
	t.Cleanup(srv.Close)
	x := New(Options{HTTPClient: &http.Client{Transport: srv.Client().Transport}})
	in := config.Integration{ID: "gcp-read", Timeout: 5 * time.Second, GCP: &config.GCP{
		WorkloadIdentityProvider: testProvider, ServiceAccount: readerSA, STSEndpoint: srv.URL, IAMCredentialsEndpoint: srv.URL}}
	_, err := x.Exchange(context.Background(), exchange.Request{
		Run:         runs.Run{ID: "01JRUN", Space: "root", Stack: "vpc", Scope: runs.Read},
		Integration: in, Tokens: &fakeTokens{t: t, iss: iss, scope: "read"}})
	var up *exchange.UpstreamError
	if !errors.As(err, &up) {
		t.Fatalf("err %T %v, want *exchange.UpstreamError", err, err)
	}
	if !strings.Contains(up.Message, exchange.ErrResponseTooLarge.Error()) || strings.Contains(up.Message, "xxxxxxxx") {
		t.Errorf("message %.120q…: want it to say the answer is larger than 1 MiB, not quote it", up.Message)
	}
}
