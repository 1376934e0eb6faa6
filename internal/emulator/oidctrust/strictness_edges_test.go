package oidctrust_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/emulator/oidctrust"
	"github.com/brokerhq/broker/internal/testutil/oidctest"
	"github.com/go-jose/go-jose/v4"
)

// signRaw signs payload, byte for byte as given, with iss's key under kid k1 (RS256).
func signRaw(t *testing.T, iss *shapedIssuer, payload string) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: iss.key, KeyID: "k1"}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	obj, err := signer.Sign([]byte(payload))
	if err != nil {
		t.Fatal(err)
	}
	out, err := obj.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// nonCanonical returns seg with its last character replaced by another that decodes to
// the same bytes (the unused low bits of the last character differ), or "" when seg has no
// unused bits.
func nonCanonical(seg string) string {
	want, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil || len(seg)%4 == 0 {
		return ""
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for _, c := range alphabet {
		alt := seg[:len(seg)-1] + string(c)
		if got, err := base64.RawURLEncoding.DecodeString(alt); alt != seg && err == nil && string(got) == string(want) {
			return alt
		}
	}
	return ""
}

// TestCompactSegmentsMustBeCanonical pins that a compact JWT is verified over the exact
// characters it arrived with, as the clouds' token services do: a header or payload segment
// carrying a line break, or whose last character differs from the canonical base64url
// encoding only in unused bits, is not the signed JWS Signing Input and is refused, though it
// decodes to the signed bytes.
func TestCompactSegmentsMustBeCanonical(t *testing.T) {
	iss := oidctest.Start(t)
	v := &oidctrust.Verifier{}
	policy := oidctrust.Policy{Issuer: iss.URL, Audiences: []string{"a"}, Algorithms: []string{"RS256"}}
	// Pad sub until the payload segment's length leaves unused bits in its last character.
	var good string
	for pad := ""; ; pad += "x" {
		good = iss.Sign(t, oidctest.Token{Claims: map[string]any{"sub": "s" + pad, "aud": "a"}})
		if nonCanonical(strings.Split(good, ".")[1]) != "" {
			break
		}
	}
	if _, err := v.Verify(context.Background(), good, policy); err != nil {
		t.Fatalf("the good token: %v", err)
	}
	parts := strings.Split(good, ".")
	for _, tc := range []struct{ name, token string }{
		{"line break inside the payload", parts[0] + "." + parts[1][:10] + "\n" + parts[1][10:] + "." + parts[2]},
		{"CRLF inside the header", parts[0][:5] + "\r\n" + parts[0][5:] + "." + parts[1] + "." + parts[2]},
		{"payload's last character non-canonical", parts[0] + "." + nonCanonical(parts[1]) + "." + parts[2]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := v.Verify(context.Background(), tc.token, policy); !errors.Is(err, oidctrust.ErrMalformed) {
				t.Errorf("Verify = %v, want ErrMalformed: the token is not the signed JWS Signing Input", err)
			}
		})
	}
}

// TestIssuerComparedExactly pins that an iss differing from the policy's issuer only in
// case (of its scheme) is an untrusted issuer, refused before any discovery, not a discovery
// failure.
// Guards against: iss compared with strings.EqualFold in oidctrust.go:Verify
func TestIssuerComparedExactly(t *testing.T) {
	iss := oidctest.Start(t)
	v := &oidctrust.Verifier{}
	upper := strings.Replace(iss.URL, "http://", "HTTP://", 1)
	tok := iss.Sign(t, oidctest.Token{Claims: map[string]any{"sub": "s", "aud": "a", "iss": upper}})
	_, err := v.Verify(context.Background(), tok, oidctrust.Policy{Issuer: iss.URL, Audiences: []string{"a"}, Algorithms: []string{"RS256"}})
	wantErr(t, err, oidctrust.ErrIssuer)
}

// TestAudienceTypeReportedAtOnce pins that a mistyped aud is reported even when a mistyped string
// claim (sub) comes before it in the payload: aud, like a NumericDate, stops the decoding, a plain
// string claim does not.
// Guards against: only NumericDates reported at once (kind == numericDate) in
// claimtypes.go:checkClaimTypes
func TestAudienceTypeReportedAtOnce(t *testing.T) {
	iss := startShaped(t, shapedDocs{})
	v := &oidctrust.Verifier{}
	now := time.Now().Unix()
	payload := `{"iss":"` + iss.url + `","sub":5,"aud":7,"iat":` + strconv.FormatInt(now, 10) + `,"exp":` + strconv.FormatInt(now+600, 10) + `}`
	_, err := v.Verify(context.Background(), signRaw(t, iss, payload), oidctrust.Policy{Issuer: iss.url, Audiences: []string{"a"}, Algorithms: []string{"RS256"}})
	var mistyped *oidctrust.ClaimTypeError
	if !errors.As(err, &mistyped) || mistyped.Claim != "aud" || mistyped.Got != "number" {
		t.Errorf("sub a number, then aud a number: err = %v, want a ClaimTypeError for aud", err)
	}
}

// TestUnboundAudienceObjectMalformed pins that an aud that is a JSON object is malformed
// even under UnboundAudience with no audiences: it is not "no aud", and a verifier decoding aud
// as a string or list of strings refuses it.
// Guards against: an object taken as an audience in claimtypes.go:fits
func TestUnboundAudienceObjectMalformed(t *testing.T) {
	iss := startShaped(t, shapedDocs{})
	v := &oidctrust.Verifier{}
	p := oidctrust.Policy{Issuer: iss.url, Algorithms: []string{"RS256"}, UnboundAudience: true}
	_, err := v.Verify(context.Background(), iss.sign(t, "k1", claimsOf(iss.url, map[string]any{"aud": map[string]any{}})), p)
	wantErr(t, err, oidctrust.ErrMalformed)
}

// TestHungDiscoveryTimesOut pins that an issuer whose discovery endpoint never answers
// is a discovery failure after a bounded wait (5 s), not a verification that hangs for as long as
// the caller's context lives. It takes about 5 seconds.
// Guards against: fetch timeout dropped (context.WithCancel) in oidctrust.go:getJSON
func TestHungDiscoveryTimesOut(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	iss := oidctest.Start(t)
	tok := iss.Sign(t, oidctest.Token{Claims: map[string]any{"sub": "s", "aud": "a", "iss": srv.URL}})
	done := make(chan error, 1)
	go func() {
		_, err := (&oidctrust.Verifier{}).Verify(context.Background(), tok, oidctrust.Policy{Issuer: srv.URL, Audiences: []string{"a"}, Algorithms: []string{"RS256"}})
		done <- err
	}()
	select {
	case err := <-done:
		wantErr(t, err, oidctrust.ErrDiscovery)
	case <-time.After(8 * time.Second):
		t.Fatal("Verify still waiting on a discovery endpoint that never answers after 8 s")
	}
}

// TestUnencodedPayloadRefused pins that a compact JWT whose protected header asks for an
// unencoded payload ({"b64":false,"crit":["b64"]}, JWS Unencoded Payload Option) is refused:
// the signature of a JWT covers the base64url-encoded payload, and the clouds' token services
// support no "crit" extension. Here the issuer's key signs the header and the raw JSON claims;
// the middle segment carries the same claims base64url-encoded.
func TestUnencodedPayloadRefused(t *testing.T) {
	iss := startShaped(t, shapedDocs{})
	v := &oidctrust.Verifier{}
	claims, err := json.Marshal(claimsOf(iss.url, nil))
	if err != nil {
		t.Fatal(err)
	}
	header := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS256","kid":"k1","typ":"JWT","b64":false,"crit":["b64"]}`))
	digest := sha256.Sum256([]byte(header + "." + string(claims)))
	sig, err := rsa.SignPKCS1v15(rand.Reader, iss.key, crypto.SHA256, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	tok := header + "." + base64.RawURLEncoding.EncodeToString(claims) + "." + base64.RawURLEncoding.EncodeToString(sig)
	if _, err := v.Verify(context.Background(), tok, oidctrust.Policy{Issuer: iss.url, Audiences: []string{"a"}, Algorithms: []string{"RS256"}}); !errors.Is(err, oidctrust.ErrMalformed) {
		t.Errorf("Verify = %v, want ErrMalformed for a JWT signed over its raw, unencoded claims", err)
	}
}
