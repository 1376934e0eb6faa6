package keys_test

import (
	"testing"
	"time"

	"github.com/brokerhq/broker/keys"
)

// TestWithdraw checks that keys a backend withdrew get their chain a key signing at once only
// when they leave it empty (a key left in it, even one not due yet, signs), and only for a
// chain the policy keeps.
func TestWithdraw(t *testing.T) {
	two := policy
	two.Also = []string{keys.RS256}
	signing := func(kid, alg string) keys.Meta {
		return keys.Meta{KID: kid, Alg: alg, Created: t0.Add(-48 * time.Hour),
			Activates: t0.Add(-24 * time.Hour)}
	}
	pending := keys.Meta{KID: "es-next", Alg: keys.ES256, Created: t0.Add(-time.Hour),
		Activates: t0.Add(time.Hour)}
	es, rs := signing("es", keys.ES256), signing("rs", keys.RS256)
	for _, tc := range []struct {
		name      string
		set       []keys.Meta
		withdrawn []keys.Meta
		p         keys.Policy
		want      string // the chain given a key signing now; empty for none
	}{
		{"the ES256 signer withdrawn beside RS256", []keys.Meta{rs}, []keys.Meta{es}, two, keys.ES256},
		{"the RS256 signer withdrawn beside ES256", []keys.Meta{es}, []keys.Meta{rs}, two, keys.RS256},
		{"a pending key left alone", []keys.Meta{rs, pending}, []keys.Meta{es}, two, ""},
		{"another signer left in the chain", []keys.Meta{es, rs}, []keys.Meta{signing("old", keys.ES256)},
			two, ""},
		{"a chain the policy does not keep", []keys.Meta{es}, []keys.Meta{rs}, policy, ""},
		{"nothing withdrawn", []keys.Meta{es}, nil, two, ""},
	} {
		d, ok := keys.Withdraw(t0, tc.set, tc.withdrawn, tc.p)
		switch {
		case tc.want == "" && ok:
			t.Errorf("%s: Withdraw = %+v, want no change", tc.name, d)
		case tc.want != "" && (!ok || d.Alg != tc.want || !d.Generate || !d.Activates.Equal(t0)):
			t.Errorf("%s: Withdraw = %+v, %v; want a %s key signing from now", tc.name, d, ok, tc.want)
		}
	}
}
