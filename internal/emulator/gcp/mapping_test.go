package gcpemu

import (
	"errors"
	"testing"

	"github.com/brokerhq/broker/internal/emulator/oidctrust"
)

func TestMappingExpressions(t *testing.T) {
	claims := oidctrust.Claims{"spaceId": "prod", "callerId": "vpc", "scope": "write", "n": 3.0, "b": true}
	for _, tc := range []struct {
		name, expr string
		value      string
		ok         bool
		parseErr   bool
		evalErr    bool
	}{
		{name: "one claim", expr: "assertion.spaceId", value: "prod", ok: true},
		{name: "a number claim as text", expr: "assertion.n", value: "3", ok: true},
		{name: "a boolean claim as text", expr: "assertion.b", value: "true", ok: true},
		{name: "an absent claim maps to nothing", expr: "assertion.missing"},
		{name: "a concatenation", expr: `assertion.spaceId + "/" + assertion.callerId + "@" + assertion.scope`, value: "prod/vpc@write", ok: true},
		{name: "a concatenation naming an absent claim", expr: `assertion.spaceId + "/" + assertion.missing`, evalErr: true},
		{name: "a concatenation with a number", expr: `assertion.spaceId + assertion.n`, evalErr: true},
		{name: "a literal alone", expr: `"prod"`, parseErr: true},
		{name: "a literal with a quote", expr: `assertion.spaceId + "a\"b"`, parseErr: true},
		{name: "a function", expr: `assertion.sub.split(':')[0]`, parseErr: true},
		{name: "no spaces around +", expr: `assertion.spaceId+assertion.scope`, parseErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			terms, err := parseMapping(tc.expr)
			if (err != nil) != tc.parseErr {
				t.Fatalf("parseMapping(%s) = %v", tc.expr, err)
			}
			if err != nil {
				return
			}
			value, ok, err := evaluate(terms, claims)
			if tc.evalErr {
				if !errors.Is(err, errMapping) {
					t.Errorf("evaluate(%s) = %q, %v, %v; want errMapping", tc.expr, value, ok, err)
				}
				return
			}
			if err != nil || value != tc.value || ok != tc.ok {
				t.Errorf("evaluate(%s) = %q, %v, %v; want %q, %v", tc.expr, value, ok, err, tc.value, tc.ok)
			}
		})
	}
}

// TestNumberClaimMapsToItsDigits: a mapping of a single claim holding a number gives
// the number's JSON text, so that a whole number of seven or more digits (a numeric project or
// run id) maps to its digits, not to Go's exponent notation ("1.234567e+06"), and a binding on
// principalSet://.../attribute.<name>/1234567 can match it.
func TestNumberClaimMapsToItsDigits(t *testing.T) {
	claims := oidctrust.Claims{"big": 1234567.0, "million": 1e6, "small": 42.0}
	for _, tc := range []struct{ expr, want string }{
		{"assertion.small", "42"},
		{"assertion.big", "1234567"},
		{"assertion.million", "1000000"},
	} {
		terms, err := parseMapping(tc.expr)
		if err != nil {
			t.Fatal(err)
		}
		got, ok, err := evaluate(terms, claims)
		if err != nil || !ok || got != tc.want {
			t.Errorf("evaluate(%s) = %q, %v, %v; want %q", tc.expr, got, ok, err, tc.want)
		}
	}
}
