package oidctrust_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/brokerhq/broker/internal/emulator/oidctrust"
	"github.com/brokerhq/broker/internal/testutil/oidctest"
)

// TestHTTPIssuerOnlyOnLoopback pins that a plain-http issuer is taken only on a loopback host: an
// http issuer on any other IP address is refused as ErrIssuer before discovery.
// Guards against: internal/emulator/oidctrust/oidctrust.go:283 "ip != nil && ip.IsLoopback()" ->
// "ip != nil"
func TestHTTPIssuerOnlyOnLoopback(t *testing.T) {
	iss := oidctest.Start(t)
	// Any fetch fails at once without touching the network, so that a verifier which let the
	// issuer through would answer ErrDiscovery, not ErrIssuer.
	v := &oidctrust.Verifier{HTTP: &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		return nil, errors.New("test transport: no network")
	})}}
	for _, u := range []string{"http://10.0.0.1", "http://192.0.2.7:8443", "http://[2001:db8::1]"} {
		tok := iss.Sign(t, oidctest.Token{Claims: map[string]any{"sub": "s", "aud": "a", "iss": u}})
		_, err := v.Verify(context.Background(), tok, oidctrust.Policy{Issuer: u, Audiences: []string{"a"}, Algorithms: []string{"RS256"}})
		if !errors.Is(err, oidctrust.ErrIssuer) {
			t.Errorf("issuer %s: Verify = %v, want ErrIssuer (http only on loopback)", u, err)
		}
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
