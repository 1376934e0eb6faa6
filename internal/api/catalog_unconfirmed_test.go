package api_test

import (
	"context"
	"crypto"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/exchange"
	"github.com/brokerhq/broker/internal/runs"
)

// cutOff is a catalog confirmation (api.WorkerConfig.Current) that fails while down is set, as
// that of a replica cut off from its catalog store for longer than catalog.MaxStale does.
type cutOff struct{ down atomic.Bool }

func (c *cutOff) current(context.Context) error {
	if c.down.Load() {
		return fmt.Errorf("%w: the catalog's node is out of reach", catalog.ErrUnavailable)
	}
	return nil
}

// countingSigner counts the signatures of the signer it wraps.
type countingSigner struct {
	crypto.Signer
	n *atomic.Int64
}

func (s countingSigner) Sign(rand io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	s.n.Add(1)
	return s.Signer.Sign(rand, digest, opts)
}

// TestCachedRunMintsNothingOnAnUnconfirmedCatalog: a run the store's cache holds gets no token
// while the replica cannot confirm its catalog is current (503): nothing is signed, and the
// trail records no token, since a deletion elsewhere may have withdrawn the run's stack.
func TestCachedRunMintsNothingOnAnUnconfirmedCatalog(t *testing.T) {
	var cut cutOff
	var signed atomic.Int64
	h := newRunsHarnessWith(t, harnessOptions{current: cut.current,
		wrapSigner: func(s crypto.Signer) crypto.Signer { return countingSigner{Signer: s, n: &signed} }})
	run := h.start(t, runs.Tracked, runs.Planning)
	stored, err := h.store.Get(context.Background(), run.Run.ID)
	if err != nil {
		t.Fatal(err)
	}
	h.flaky.plant(run.RunToken, stored)
	if code, raw := h.rawCall(t, "/v1/token", run.RunToken, map[string]string{}); code != http.StatusOK {
		t.Fatalf("POST /v1/token on a confirmed catalog: %d %s", code, raw)
	}
	cut.down.Store(true)
	before := signed.Load()
	events := len(h.eventsOf("token.issue", "success"))
	if code, raw := h.rawCall(t, "/v1/token", run.RunToken, map[string]string{}); code != http.StatusServiceUnavailable {
		t.Fatalf("POST /v1/token on an unconfirmed catalog: %d %s, want 503", code, raw)
	}
	if n := signed.Load() - before; n != 0 {
		t.Errorf("%d signatures made for a cached run on an unconfirmed catalog, want none", n)
	}
	if got := h.eventsOf("token.issue", "success"); len(got) != events {
		t.Errorf("token.issue events went from %d to %d on an unconfirmed catalog, want no new one", events, len(got))
	}
}

// cuttingExchanger is fakeExchanger that cuts the replica off from its catalog store while it
// exchanges, as a partition that begins during a slow upstream call.
type cuttingExchanger struct{ cut *cutOff }

func (c cuttingExchanger) Exchange(ctx context.Context, req exchange.Request) (exchange.Credentials, error) {
	c.cut.down.Store(true)
	return fakeExchanger{}.Exchange(ctx, req)
}

// TestExchangeOutlastingTheCatalogHandsNothingOut: credentials exchanged while the replica lost
// the means to confirm its catalog are not handed out (503): the exchange can outlast the
// bound within which a deletion on another replica is in force here, so the run's right to
// them is confirmed again once they are made.
func TestExchangeOutlastingTheCatalogHandsNothingOut(t *testing.T) {
	var cut cutOff
	h := newRunsHarnessWith(t, harnessOptions{current: cut.current, aws: cuttingExchanger{cut: &cut}})
	run := h.start(t, runs.Tracked, runs.Planning)
	code, raw := h.rawCall(t, "/v1/credentials", run.RunToken, map[string]string{"provider": "aws"})
	if code != http.StatusServiceUnavailable {
		t.Fatalf("POST /v1/credentials cut off during the exchange: %d %s, want 503", code, raw)
	}
	if got := h.eventsOf("credentials.issue", "success"); len(got) != 0 {
		t.Errorf("credentials.issue success events %+v for credentials not handed out", got)
	}
}
