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
