package keys_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/testutil/fakeclock"
	"github.com/brokerhq/broker/keys"
)

// shortPolicy is a valid configuration (retain at most 16 periods, prepublish under the
// period) whose chain holds many keys: each retired key stays published for Linger (over a
// minute) plus Retain, which is some 77 periods of one second.
var shortPolicy = keys.Policy{
	Period: time.Second, Prepublish: 500 * time.Millisecond, Retain: 16 * time.Second, Alg: keys.ES256,
}

// scheduledChain is a chain of n keys as the schedule of p makes them from t0: key i signs from
// t0+i*period until its successor takes over, and was saved Lead before it signs.
func scheduledChain(n int, p keys.Policy) []keys.Meta {
	out := make([]keys.Meta, n)
	for i := range out {
		act := t0.Add(time.Duration(i) * p.Period)
		m := keys.Meta{KID: fmt.Sprintf("k%03d", i), Alg: p.Alg, Activates: act}
		m.Created = act.Add(-p.Lead())
		if i == 0 {
			m.Created = act
		}
		if i+1 < n {
			m.Retires = act.Add(p.Period)
		}
		out[i] = m
	}
	return out
}

// TestExpiredChainIsJudgedQuickly: the schedule's pure functions judge in a moment a chain whose
// retired keys all expired while no refresh ran (replicas stopped, or the store unreachable for
// a minute), not in time doubling with each key: a refresh that never ends freezes the
// replica's snapshot, which keeps signing with a key the other replicas no longer publish. The
// bound is a hang's, not a speed goal: a correct judgement takes microseconds.
func TestExpiredChainIsJudgedQuickly(t *testing.T) {
	set := scheduledChain(40, shortPolicy)
	now := set[len(set)-1].Activates.Add(10 * time.Minute)
	tests := []struct {
		name string
		call func()
	}{
		{"Published", func() { keys.Published(now, set, shortPolicy) }},
		{"Decide", func() { keys.Decide(now, set, shortPolicy) }},
		{"States", func() { keys.States(now, set, shortPolicy) }},
	}
	for _, tt := range tests {
		done := make(chan struct{})
		go func() {
			defer close(done)
			tt.call()
		}()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Errorf("%s on a chain of %d expired keys did not return within 5s", tt.name, len(set))
		}
	}
}

// TestRefreshEndsAfterAnOutage: a replica on a valid short schedule (period 1s, retain 16s)
// whose key store was unreachable for 45 seconds keeps refreshing: each refresh during and
// after the outage ends, so the retired keys stop signing and leave the JWKS on time.
func TestRefreshEndsAfterAnOutage(t *testing.T) {
	p := shortPolicy
	clk := fakeclock.New(t0)
	var down atomic.Bool
	fb := downableMemory(&down)
	m := newManager(t, keys.Config{Backend: fb, Policy: p, Now: clk.Now, TokenTTL: time.Second})
	done := make(chan struct{})
	var reached atomic.Int64
	go func() {
		defer close(done)
		step := keys.RefreshInterval(p.Prepublish)
		for d := time.Duration(0); d <= 200*time.Second; d += step {
			clk.Set(t0.Add(d))
			down.Store(d > 100*time.Second && d < 145*time.Second)
			_, _ = m.Refresh(context.Background())
			reached.Store(int64(d))
		}
	}()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Errorf("refreshes stuck at +%v of the schedule (the outage lasts from +100s to +145s)",
			time.Duration(reached.Load()))
	}
}
