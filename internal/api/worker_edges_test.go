package api_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/exchange"
	"github.com/brokerhq/broker/internal/runs"
)

// TestCachedFinishedRunGetsNoToken: a run the store's cache still holds as FINISHED is not
// live: POST /v1/token answers 401 and no token.issue event is recorded, even though the cache
// offers the run with a Version.
// Guards against: worker.go:live drops the run.Phase == runs.Finished check
func TestCachedFinishedRunGetsNoToken(t *testing.T) {
	h := newRunsHarness(t)
	run := h.start(t, runs.Tracked, runs.Applying)
	finished, err := h.store.Update(context.Background(), run.Run.ID, func(r runs.Run) (runs.Run, error) { return r.MoveTo(runs.Finished) })
	if err != nil {
		t.Fatal(err)
	}
	h.flaky.plant(run.RunToken, finished)
	code, raw := h.rawCall(t, "/v1/token", run.RunToken, map[string]string{})
	if code != http.StatusUnauthorized {
		t.Fatalf("POST /v1/token for a finished cached run: %d %s, want 401", code, raw)
	}
	if got := h.eventsOf("token.issue", "success"); len(got) != 0 {
		t.Errorf("token.issue events %+v, want none", got)
	}
}

// silentMinter mints one broker token for the upstream call and hands the worker
// credentials that do not contain it (as an AWS exchange does).
type silentMinter struct{}

// Exchange mints a token for STS and answers credentials that do not hold it.
func (silentMinter) Exchange(ctx context.Context, req exchange.Request) (exchange.Credentials, error) {
	if _, err := req.Tokens.Token(ctx, exchange.TokenRequest{Audience: "sts.amazonaws.com"}); err != nil {
		return exchange.Credentials{}, err
	}
	return exchange.Credentials{ExpiresAt: time.Now().Add(time.Hour), Env: map[string]string{"AWS_ACCESS_KEY_ID": "AKIA-x"}}, nil
}

// TestCredentialsTrailNamesOnlyTokensHandedOut: the credentials.issue event names a broker
// token ("; token aud=... jti=...") only when that token is in what the worker receives; a token
// sent upstream alone is not named as handed out.
// Guards against: credentials.go:runTokens.handedOut v == tok.JWT flipped to !=
func TestCredentialsTrailNamesOnlyTokensHandedOut(t *testing.T) {
	h := newRunsHarnessWith(t, harnessOptions{aws: silentMinter{}})
	run := h.start(t, runs.Tracked, runs.Planning)
	if code, env := h.call(t, request{path: "/v1/credentials", bearer: run.RunToken, body: map[string]string{"provider": "aws"}}); code != http.StatusOK {
		t.Fatalf("credentials: %d %s", code, env.Error.Message)
	}
	got := h.eventsOf("credentials.issue", "success")
	if len(got) != 1 {
		t.Fatalf("credentials.issue events %+v, want one", got)
	}
	if strings.Contains(got[0].Detail, "; token") {
		t.Errorf("event detail %q names a token the worker never received", got[0].Detail)
	}
}

// leakyExchanger fails with an error quoting a JWT-shaped string.
type leakyExchanger struct{}

// leakedJWT is the JWT-shaped string leakyExchanger quotes.
const leakedJWT = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJydW4ifQ.c2lnbmF0dXJl"

// Exchange fails, quoting leakedJWT.
func (leakyExchanger) Exchange(context.Context, exchange.Request) (exchange.Credentials, error) {
	return exchange.Credentials{}, errors.New("upstream said: bad assertion " + leakedJWT)
}

// TestFailedExchangeEventIsScrubbed: when an exchange fails, the "error" credentials.issue
// event's detail never holds a JWT-shaped string quoted by the failure, and the answer is the
// envelope without it either.
// Guards against: credentials.go:credentials records err.Error() without exchange.Scrub
func TestFailedExchangeEventIsScrubbed(t *testing.T) {
	h := newRunsHarnessWith(t, harnessOptions{aws: leakyExchanger{}})
	run := h.start(t, runs.Tracked, runs.Planning)
	code, raw := h.rawCall(t, "/v1/credentials", run.RunToken, map[string]string{"provider": "aws"})
	if code < 400 || strings.Contains(string(raw), leakedJWT) {
		t.Errorf("failed exchange answered %d %s, want an error without the JWT", code, raw)
	}
	got := h.eventsOf("credentials.issue", "error")
	if len(got) != 1 {
		t.Fatalf("credentials.issue error events %+v, want one", got)
	}
	if strings.Contains(got[0].Detail, leakedJWT) {
		t.Errorf("event detail %q holds the JWT", got[0].Detail)
	}
}
