package exchangetest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/exchange"
)

// testRevoker holds an exchanger that is an exchange.Revoker (through the server's wrapping) to
// its contract: credentials it obtained stop working upstream once revoked; a revocation the
// upstream refuses (credentials revoked already) is logged without a secret; a revocation whose
// caller gave up returns. An exchanger that is no Revoker must have a harness without Holds.
func testRevoker(t *testing.T, h Harness) {
	f := start(t, h)
	rv, ok := exchange.RevokerOf(f.x)
	if !ok {
		if h.Holds != nil {
			t.Fatal("the harness tells whether credentials hold, but the exchanger cannot take them back (no exchange.Revoker)")
		}
		return
	}
	if h.Holds == nil {
		t.Fatal("the exchanger is an exchange.Revoker; its harness must set Holds")
	}
	creds, err := f.exchange(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !h.Holds(t, creds) {
		t.Fatal("credentials just obtained do not hold upstream")
	}
	rv.Revoke(context.Background(), f.req.Integration, creds)
	if h.Holds(t, creds) {
		t.Error("credentials still hold upstream after Revoke")
	}

	// Revoked already: the upstream refuses, which is logged, never with a secret.
	before := f.logs.String()
	rv.Revoke(context.Background(), f.req.Integration, creds)
	if after := f.logs.String(); len(after) == len(before) || !strings.Contains(after[len(before):], "revoke") {
		t.Errorf("a refused revocation left no log line naming it:\n%s", after[len(before):])
	}
	f.checkNoSecrets(nil, creds)

	// A caller that gave up: Revoke returns.
	fresh, err := f.exchange(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		rv.Revoke(ctx, f.req.Integration, fresh)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Revoke with its caller's context over did not return")
	}
	f.checkNoSecrets(nil, creds, fresh)
}
