package oidctrust_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/emulator/oidctrust"
	"github.com/brokerhq/broker/internal/testutil/oidctest"
)

// verifyRaw verifies a token signed over payload, exactly as given, for iss and
// audience "a".
func verifyRaw(t *testing.T, iss *shapedIssuer, payload string) error {
	t.Helper()
	p := oidctrust.Policy{Issuer: iss.url, Audiences: []string{"a"}, Algorithms: []string{"RS256"}}
	_, err := (&oidctrust.Verifier{}).Verify(context.Background(), signRaw(t, iss, payload), p)
	return err
}

// timesJSON returns the iat and exp members of a good payload, exp ten minutes on.
func timesJSON() string {
	now := time.Now().Unix()
	return `"iat":` + strconv.FormatInt(now, 10) + `,"exp":` + strconv.FormatInt(now+600, 10)
}

// TestFirstMistypedStringClaim checks that, of two string claims of the wrong type, the
// first in the payload is the one reported.
// Guards against: claimtypes.go:last mistyped string claim kept instead of the first
func TestFirstMistypedStringClaim(t *testing.T) {
	iss := startShaped(t, shapedDocs{})
	payload := `{"iss":"` + iss.url + `","sub":5,"jti":true,"aud":"a",` + timesJSON() + `}`
	err := verifyRaw(t, iss, payload)
	var mistyped *oidctrust.ClaimTypeError
	if !errors.As(err, &mistyped) || mistyped.Claim != "sub" || mistyped.Got != "number" {
		t.Errorf("sub a number, then jti a bool: err = %v, want a ClaimTypeError for sub", err)
	}
}

// TestNumericDateFalse checks that a NumericDate that is the JSON literal false is a
// ClaimTypeError of type bool, not a number and not an absent claim.
// Guards against: claimtypes.go:jsonType names only 't' as bool
func TestNumericDateFalse(t *testing.T) {
	iss := startShaped(t, shapedDocs{})
	payload := `{"iss":"` + iss.url + `","sub":"s","aud":"a",` + timesJSON() + `,"nbf":false}`
	err := verifyRaw(t, iss, payload)
	var mistyped *oidctrust.ClaimTypeError
	if !errors.As(err, &mistyped) || mistyped.Claim != "nbf" || mistyped.Got != "bool" {
		t.Errorf("nbf false: err = %v, want a ClaimTypeError for nbf of type bool", err)
	}
}

// TestExpMistypedIsClaimTypeError checks that an exp that is a string is reported as a
// ClaimTypeError naming exp, like the other NumericDates, not merely as a missing exp.
// Guards against: claimtypes.go:exp left out of the type check
func TestExpMistypedIsClaimTypeError(t *testing.T) {
	iss := startShaped(t, shapedDocs{})
	err := verifyRaw(t, iss, `{"iss":"`+iss.url+`","sub":"s","aud":"a","exp":"never"}`)
	var mistyped *oidctrust.ClaimTypeError
	if !errors.As(err, &mistyped) || mistyped.Claim != "exp" || mistyped.Got != "string" {
		t.Errorf("exp a string: err = %v, want a ClaimTypeError for exp", err)
	}
}

// TestErrorsWrapExactlyOneKind checks that a mistyped claim and a disallowed algorithm
// each match exactly one failure kind, and that their messages begin with that kind's text.
// Guards against: claimtypes.go:ClaimTypeError.Is true for any target
// Guards against: claimtypes.go:ClaimTypeError.Error without the kind's text
// Guards against: oidctrust.go:ParseError.Is also true for ErrMalformed
// Guards against: oidctrust.go:ParseError.Error without the kind's text
func TestErrorsWrapExactlyOneKind(t *testing.T) {
	kinds := []error{oidctrust.ErrMalformed, oidctrust.ErrAlgorithm, oidctrust.ErrIssuer,
		oidctrust.ErrDiscovery, oidctrust.ErrSignature, oidctrust.ErrAudience, oidctrust.ErrExpired,
		oidctrust.ErrLifetime, oidctrust.ErrTooOld}
	shaped := startShaped(t, shapedDocs{})
	iss := oidctest.Start(t)
	p := oidctrust.Policy{Issuer: iss.URL, Audiences: []string{"a"}, Algorithms: []string{"RS256"}}
	claims := map[string]any{"sub": "s", "aud": "a"}
	es256 := iss.Sign(t, oidctest.Token{Claims: claims, Alg: "ES256"})
	_, algErr := (&oidctrust.Verifier{}).Verify(context.Background(), es256, p)
	for _, tc := range []struct {
		name string
		err  error
		want error
	}{
		{"sub a number", verifyRaw(t, shaped, `{"iss":"`+shaped.url+`","sub":5,"aud":"a",`+
			timesJSON()+`}`), oidctrust.ErrMalformed},
		{"ES256 outside the allow-list", algErr, oidctrust.ErrAlgorithm},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.err == nil || !strings.HasPrefix(tc.err.Error(), tc.want.Error()+": ") {
				t.Errorf("err = %v, want a message beginning %q", tc.err, tc.want.Error()+": ")
			}
			for _, k := range kinds {
				if got := errors.Is(tc.err, k); got != (k == tc.want) {
					t.Errorf("errors.Is(%v, %v) = %v", tc.err, k, got)
				}
			}
		})
	}
}
