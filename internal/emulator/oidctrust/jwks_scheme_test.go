package oidctrust_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/brokerhq/broker/internal/emulator/oidctrust"
	"github.com/brokerhq/broker/internal/testutil/oidctest"
)

// TestJWKSOverPlainHTTPRefused checks that the signing keys of an issuer are fetched
// only over https, or plain http on a loopback host, as the issuer itself is: a discovery
// document naming a plain-http jwks_uri on another host is a discovery failure, since anyone
// on the path could substitute the keys.
func TestJWKSOverPlainHTTPRefused(t *testing.T) {
	iss := oidctest.Start(t)
	// The transport answers every request from the issuer's own test server, so a verifier
	// that fetched the remote jwks_uri would get the issuer's real keys and take the token.
	v := &oidctrust.Verifier{HTTP: &http.Client{Transport: roundTripFunc(
		func(r *http.Request) (*http.Response, error) {
			rec := httptest.NewRecorder()
			if r.URL.Path == "/.well-known/openid-configuration" {
				_ = json.NewEncoder(rec).Encode(map[string]string{
					"issuer": iss.URL, "jwks_uri": "http://keys.example.com/jwks"})
				return rec.Result(), nil
			}
			resp, err := http.Get(iss.URL + r.URL.Path)
			return resp, err
		})}}
	tok := iss.Sign(t, oidctest.Token{Claims: map[string]any{"sub": "s", "aud": "a"}})
	p := oidctrust.Policy{Issuer: iss.URL, Audiences: []string{"a"}, Algorithms: []string{"RS256"}}
	_, err := v.Verify(context.Background(), tok, p)
	wantErr(t, err, oidctrust.ErrDiscovery)
}

// TestJWKSRedirectToPlainHTTPRefused checks that a redirect on the way to the keys is held to
// the same rule: a loopback jwks_uri that redirects to plain http on another host is a
// discovery failure, not a fetch of keys anyone on the path could have replaced.
func TestJWKSRedirectToPlainHTTPRefused(t *testing.T) {
	iss := oidctest.Start(t)
	v := &oidctrust.Verifier{HTTP: &http.Client{Transport: roundTripFunc(
		func(r *http.Request) (*http.Response, error) {
			rec := httptest.NewRecorder()
			switch {
			case r.URL.Path == "/.well-known/openid-configuration":
				_ = json.NewEncoder(rec).Encode(map[string]string{
					"issuer": iss.URL, "jwks_uri": iss.URL + "/moved"})
			case r.URL.Path == "/moved":
				http.Redirect(rec, r, "http://keys.example.com/jwks", http.StatusFound)
			default:
				return http.Get(iss.URL + r.URL.Path)
			}
			return rec.Result(), nil
		})}}
	tok := iss.Sign(t, oidctest.Token{Claims: map[string]any{"sub": "s", "aud": "a"}})
	p := oidctrust.Policy{Issuer: iss.URL, Audiences: []string{"a"}, Algorithms: []string{"RS256"}}
	_, err := v.Verify(context.Background(), tok, p)
	wantErr(t, err, oidctrust.ErrDiscovery)
}
