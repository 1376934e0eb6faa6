package vaulttransit_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/brokerhq/broker/keys"
	"github.com/brokerhq/broker/keys/vaulttransit"
)

// TestRenewalSchedule pins the token renewal's schedule, each case watching a fake Vault for a
// while: a renewable token is first renewed at half the TTL lookup-self reports (not its creation
// TTL), asking for its creation TTL as the increment; the next renewal waits half the lease the
// renewal granted; a failed renewal, or one answered without a lease, is retried after a second,
// however short a tenth of the TTL is (and an answer without a lease does not crash the renewal);
// and a renewable token without a TTL is never renewed.
// Guards against: increment 0 in renew.go:renew
// Guards against: increment from ttl instead of creation_ttl in renew.go:lookupSelf
// Guards against: ttl read from creation_ttl in renew.go:lookupSelf
// Guards against: wait after a renewal from the first TTL, not the granted lease, in renew.go:renew
// Guards against: minRenewWait lowered to a millisecond in renew.go
// Guards against: retry wait without the minRenewWait floor in renew.go:renew
// Guards against: "sec == nil || sec.Auth == nil" -> "sec == nil" (nil dereference) in
// renew.go:renew
// Guards against: "t.ttl <= 0" -> "t.ttl < 0" in renew.go:renew
func TestRenewalSchedule(t *testing.T) {
	lease := func(seconds int) map[string]any {
		return map[string]any{"auth": map[string]any{"client_token": "t", "lease_duration": seconds, "renewable": true}}
	}
	// Each case names the renewals it waits for (their increments) and the least and the most
	// time from the start to the first and from each to the next; a renewal past the last
	// is one too many when it comes within quiet of it. Lateness only ever delays a renewal,
	// so the bounds that a busy machine could break are the generous upper ones.
	for _, c := range []struct {
		name   string
		lookup map[string]any
		renew  any
		want   []string
		first  [2]time.Duration // the first renewal's least and most time from the start
		gap    time.Duration    // the least time between renewals
		quiet  time.Duration
	}{
		{name: "renewed at half the ttl with the creation ttl", lookup: map[string]any{"renewable": true, "ttl": 2, "creation_ttl": 7},
			renew: lease(60), want: []string{"7"}, first: [2]time.Duration{900 * time.Millisecond, 3 * time.Second}, quiet: 1500 * time.Millisecond},
		{name: "refused renewal retried after a second", lookup: map[string]any{"renewable": true, "ttl": 2, "creation_ttl": 2},
			want: []string{"2", "2"}, first: [2]time.Duration{900 * time.Millisecond, 3 * time.Second}, gap: 900 * time.Millisecond},
		{name: "renewal without a lease retried after a second", lookup: map[string]any{"renewable": true, "ttl": 2, "creation_ttl": 2},
			renew: map[string]any{}, want: []string{"2", "2"}, first: [2]time.Duration{900 * time.Millisecond, 3 * time.Second}, gap: 900 * time.Millisecond},
		{name: "renewable without a ttl", lookup: map[string]any{"renewable": true, "ttl": 0, "creation_ttl": 0},
			renew: lease(60), quiet: 1500 * time.Millisecond},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			p := &renewVault{lookup: c.lookup, renew: c.renew}
			start := time.Now()
			b, err := vaulttransit.New(context.Background(), vaulttransit.Config{
				Address: startRenewVault(t, p), Mount: "transit", Key: "k", Alg: keys.ES256, Token: "t",
			})
			if err != nil {
				t.Fatal(err)
			}
			got := p.waitRenewals(len(c.want))
			if c.quiet > 0 {
				time.Sleep(c.quiet)
				got = p.renewals()
			}
			if err := b.Close(); err != nil {
				t.Fatal(err)
			}
			var incs []string
			for _, r := range got {
				incs = append(incs, r.increment)
			}
			if !slices.Equal(incs, c.want) {
				t.Fatalf("renewals asked increments %v, want %v", incs, c.want)
			}
			if len(got) == 0 {
				return
			}
			if d := got[0].at.Sub(start); d < c.first[0] || d > c.first[1] {
				t.Errorf("first renewal %s after the start, want between %s and %s", d, c.first[0], c.first[1])
			}
			for i := 1; i < len(got); i++ {
				if d := got[i].at.Sub(got[i-1].at); d < c.gap {
					t.Errorf("renewal %d came %s after the one before, want at least %s", i+1, d, c.gap)
				}
			}
		})
	}
}
