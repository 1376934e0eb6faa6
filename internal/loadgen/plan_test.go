package loadgen

import (
	"testing"

	"github.com/brokerhq/broker/keys"
)

func TestTokenTargets(t *testing.T) {
	for _, tc := range []struct {
		alg, store string
		want       *Target
	}{
		{keys.RS256, "memory", &targetRS256Memory},
		{keys.RS256, "redis", &targetRS256Redis},
		{keys.ES256, "memory", &targetES256},
		{keys.ES256, "redis", nil},
		{keys.RS256, "target", &targetRS256Memory},
		{keys.ES256, "target", &targetES256},
	} {
		got := tokenTarget(tc.alg, tc.store)
		switch {
		case tc.want == nil && got != nil:
			t.Errorf("%s on %s: bar %v, want none", tc.alg, tc.store, *got)
		case tc.want != nil && (got == nil || *got != *tc.want):
			t.Errorf("%s on %s: bar %v, want %v", tc.alg, tc.store, got, *tc.want)
		}
	}
}
