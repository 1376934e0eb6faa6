package api_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/exchange"
	"github.com/brokerhq/broker/internal/runs"
)

// recordingExchanger mints a broker token for each exchange, as every real exchanger does
// before its upstream call, and keeps the integration it was sent to.
type recordingExchanger struct {
	mu   sync.Mutex
	sent []string
}

func (p *recordingExchanger) Exchange(
	ctx context.Context, req exchange.Request,
) (exchange.Credentials, error) {
	aud := exchange.TokenRequest{Audience: "sts.amazonaws.com"}
	if _, err := req.Tokens.Token(ctx, aud); err != nil {
		return exchange.Credentials{}, err
	}
	p.mu.Lock()
	p.sent = append(p.sent, req.Integration.ID)
	p.mu.Unlock()
	return fakeExchanger{}.Exchange(ctx, req)
}

func (p *recordingExchanger) integrations() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.sent...)
}

// bodyThen is a request body that, on its first read, runs then (once) and then reads as
// body: a change put in force while the worker's request body is still arriving.
type bodyThen struct {
	once sync.Once
	then func()
	body io.Reader
}

func (b *bodyThen) Read(p []byte) (int, error) {
	b.once.Do(b.then)
	return b.body.Read(p)
}

// moveToDev puts in force a catalog where stack vpc-prod has moved to space dev and holds
// only aws-dev, an integration of dev (whose admins chose its endpoint), for read and write.
func moveToDev(t *testing.T, h *runsHarness) {
	objs := h.live.Load().Objects()
	objs.Stacks = []config.Stack{{ID: "vpc-prod", Space: "dev"}}
	objs.Integrations = append(objs.Integrations, config.Integration{ID: "aws-dev", Space: "dev",
		AWS: &config.AWS{RoleARN: "arn:aws:iam::210987654321:role/dev"}})
	objs.Attachments = []config.Attachment{
		{Stack: "vpc-prod", Integration: "aws-dev", Read: true, Write: true},
	}
	next, err := catalog.Build(catalog.Input{File: objs})
	if err != nil {
		t.Error(err)
		return
	}
	h.live.Store(next)
}

// TestNoExchangeForRunWhoseStackMovedBeforeResolution: a run whose stack was moved to another
// space (or deleted) gets nothing more: its run token gets 401, and no integration of the
// stack's new place is resolved for it, so no broker token of the run (here a write token of
// space prod) is minted and sent to that integration's upstream, also when the move lands
// after the run token was checked and before the integration is resolved (while the request
// body, of declared length, is still arriving).
func TestNoExchangeForRunWhoseStackMovedBeforeResolution(t *testing.T) {
	ex := &recordingExchanger{}
	h := newRunsHarnessWith(t, harnessOptions{aws: ex})
	run := h.start(t, runs.Tracked, runs.Applying)
	const data = `{"provider":"aws"}`
	body := &bodyThen{then: func() { moveToDev(t, h) }, body: strings.NewReader(data)}
	req := httptest.NewRequest(http.MethodPost, "/v1/credentials", body)
	req.ContentLength = int64(len(data)) // declared, as a client trickling its body declares it
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+run.RunToken)
	rec := httptest.NewRecorder()
	h.handler.ServeHTTP(rec, req)
	if got := ex.integrations(); len(got) != 0 {
		t.Errorf("a run of prod whose stack moved to dev had an exchange made with %v "+
			"(a token of the run sent upstream), want none", got)
	}
	if rec.Code != http.StatusUnauthorized {
		t.Errorf("credentials for a run whose stack moved away: %d %s, want 401", rec.Code, rec.Body)
	}
}
