package gcp

import (
	"context"
	"testing"
	"time"
)

// TestWholeExchangeBoundedByTwiceTimeout pins that a whole GCP exchange whose subject token
// never comes ends soon after twice the integration's timeout, not many timeouts later.
// Guards against: overall bound widened (20*timeout) in gcp.go:Exchange
func TestWholeExchangeBoundedByTwiceTimeout(t *testing.T) {
	f := newFixture(t)
	in := f.integration(readerSA)
	in.Timeout = 50 * time.Millisecond
	req, _ := f.request(t, "read", in)
	req.Tokens = hangingTokens{}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	started := time.Now()
	_, err := f.x.Exchange(ctx, req)
	if took := time.Since(started); err == nil || took > 600*time.Millisecond {
		t.Errorf("exchange ended after %s with %v, want an error within about 100ms", took, err)
	}
}
