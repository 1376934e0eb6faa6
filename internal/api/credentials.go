package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/brokerhq/broker/internal/apierror"
	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/exchange"
	"github.com/brokerhq/broker/internal/issuer"
	"github.com/brokerhq/broker/internal/provider"
	"github.com/brokerhq/broker/internal/runs"
)

type credentialsRequest struct {
	Provider    string `json:"provider"`
	Integration string `json:"integration"`
}

// runTokens mints broker ID tokens for one run, one per upstream call, each with the audience
// the exchange asks for, and keeps what it minted so that the credentials' event names the
// tokens handed to the worker.
type runTokens struct {
	issuer  *issuer.Issuer
	run     runs.Run
	metrics *Metrics

	mu     sync.Mutex
	minted []issuer.Token
}

func (t *runTokens) Token(ctx context.Context, req exchange.TokenRequest) (string, error) {
	tok, err := t.issuer.Mint(ctx, issuer.Request{Run: t.run, Audience: req.Audience, AWSSessionTags: req.AWSSessionTags, Algorithm: req.Algorithm})
	if err != nil {
		return "", err
	}
	t.metrics.tokenIssued(tok.Claims.Scope)
	t.mu.Lock()
	t.minted = append(t.minted, tok)
	t.mu.Unlock()
	return tok.JWT, nil
}

// subjects lists the `sub` of every token minted: what the upstream granted on.
func (t *runTokens) subjects() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	subs := make([]string, 0, len(t.minted))
	for _, tok := range t.minted {
		subs = append(subs, tok.Claims.Subject)
	}
	return subs
}

// handedOut names, as "; token aud=<aud> jti=<jti>" each, the tokens minted that creds passes to
// the worker (Azure's ARM_OIDC_TOKEN): the trail names every token handed out, never the token.
func (t *runTokens) handedOut(creds exchange.Credentials) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var b strings.Builder
	for _, tok := range t.minted {
		for _, v := range creds.Env {
			if v == tok.JWT {
				b.WriteString("; token aud=" + tok.Claims.Audience + " jti=" + tok.Claims.ID)
				break
			}
		}
	}
	return b.String()
}

func (wk *Worker) credentials(w http.ResponseWriter, r *http.Request) {
	run, version, err := wk.authenticateRun(r, "credentials.issue")
	if err != nil {
		fail(w, r, wk.cfg.Logger, err)
		return
	}
	var req credentialsRequest
	if err := decodeBody(r, &req, bodyRequired); err != nil {
		fail(w, r, wk.cfg.Logger, err)
		return
	}
	if req.Provider == "" {
		fail(w, r, wk.cfg.Logger, apierror.New(apierror.CodeInvalidRequest, "Field \"provider\" is required: %s.", provider.NameList()))
		return
	}
	cat := wk.cfg.Catalog.Load()
	if !inForce(cat, run) {
		// The stack moved or was deleted, or the key that started the run was, since the run
		// token was checked (say while the body arrived): its attachments are now another
		// place's, whose endpoints must never receive a token of this run.
		fail(w, r, wk.cfg.Logger, errRunToken)
		return
	}
	in, err := cat.Resolve(run, req.Provider, req.Integration)
	if errors.Is(err, exchange.ErrNotAttachedForScope) || errors.Is(err, exchange.ErrWrongProvider) ||
		errors.Is(err, exchange.ErrNotAttached) {
		// The run asked for credentials it may not have: from an existing integration it named
		// and may not use (another stack's, or the write one in a read phase), or, naming none,
		// of a provider its stack has no integration of for its scope (say the write one only,
		// in a read phase). Either is a refusal worth a trail entry, whether or not the body
		// named the integration; the error names the stack, provider and scope, no secret.
		refusal := Event{Actor: "run:" + run.ID, Action: "credentials.issue",
			Run: run, Integration: req.Integration, Outcome: "denied", Detail: err.Error()}
		if req.Integration != "" && !cat.Attached(run.Stack, req.Integration) {
			// Not its stack's at all: answered as one that does not exist, so that a run
			// cannot tell which integrations other spaces hold, nor their providers; and filed
			// in the integration's space, which its owners read, not in the run's, which the
			// run's team reads (a name that exists nowhere leaves no event).
			other, _ := cat.Integration(req.Integration)
			refusal.Run.Space, refusal.Space = "", other.Space
			err = exchange.UnknownIntegration(req.Integration)
		}
		recordRefusal(r.Context(), wk.cfg.Events, wk.cfg.Logger, refusal)
	}
	if err != nil {
		fail(w, r, wk.cfg.Logger, resolveError(err))
		return
	}
	ex, ok := wk.cfg.Exchangers[req.Provider]
	if !ok {
		fail(w, r, wk.cfg.Logger, apierror.New(apierror.CodeInvalidRequest, "Provider %q is not enabled on this server.", req.Provider))
		return
	}
	ctx := r.Context()
	if wk.cfg.AnswerWithin > 0 {
		// Past the write timeout the connection closes with no answer: stop the exchange a
		// tenth before it (at most a second) so that its failure is answered. The timeout runs
		// from the request's head, not from the end of its body.
		var cancel context.CancelFunc
		by := requestStart(ctx).Add(wk.cfg.AnswerWithin - min(wk.cfg.AnswerWithin/10, time.Second))
		ctx, cancel = context.WithDeadline(ctx, by)
		defer cancel()
	}
	tokens := &runTokens{issuer: wk.cfg.Issuer, run: run, metrics: wk.cfg.Metrics}
	pending, outcome := &exchange.Pending{}, exchange.Denied
	defer func() { pending.Settle(outcome) }()
	ctx = exchange.WithPending(ctx, pending)
	creds, err := ex.Exchange(ctx, exchange.Request{Run: run, Integration: in, Tokens: tokens, Now: wk.cfg.Now()})
	event := Event{Actor: "run:" + run.ID, Action: "credentials.issue", Run: run, Integration: in.ID}
	if err != nil {
		event.Outcome, event.Detail = "error", exchange.Scrub(err.Error())
		recordRefusal(r.Context(), wk.cfg.Events, wk.cfg.Logger, event)
		if ctx.Err() != nil && r.Context().Err() == nil {
			err = &exchange.UpstreamError{Provider: req.Provider, Message: "no answer before the server's write timeout"}
		}
		fail(w, r, wk.cfg.Logger, exchangeError(req.Provider, err))
		return
	}
	handed := false
	defer func() {
		if !handed {
			takeBack(r.Context(), ex, in, creds)
		}
	}()
	event.Detail = req.Provider + " credentials until " + creds.ExpiresAt.UTC().Format(time.RFC3339) + tokens.handedOut(creds)
	used, _ := cat.Meta(catalog.Ref{Kind: catalog.KindIntegration, ID: in.ID})
	if err := wk.stillInForce(r, exchanged{run: run, version: version, integration: in.ID, integrationVersion: used.Version, req: req, subjects: tokens.subjects()}); err != nil {
		outcome = withheldOutcome(err)
		wk.withheld(r, event, err)
		fail(w, r, wk.cfg.Logger, err)
		return
	}
	event.Version = version
	err = wk.cfg.Events.Record(r.Context(), event)
	if errors.Is(err, runs.ErrChanged) {
		err = wk.changedAnswer(r)
		outcome = withheldOutcome(err)
		wk.withheld(r, event, err)
		fail(w, r, wk.cfg.Logger, err)
		return
	}
	if err != nil {
		outcome = exchange.Error
		fail(w, r, wk.cfg.Logger, notRecorded(r.Context(), wk.cfg.Events, wk.cfg.Logger, event, err)) // credentials not in the trail are not handed out
		return
	}
	// A change put in force while the event was recorded (a stack or key deleted, an
	// attachment removed, a space moved, or without a version the run finished) is not in the
	// event's condition, which is the run record alone: the credentials are withheld.
	if err := wk.stillInForce(r, exchanged{run: run, version: version, integration: in.ID, integrationVersion: used.Version, req: req, subjects: tokens.subjects()}); err != nil {
		outcome = withheldOutcome(err)
		wk.withheld(r, event, err)
		fail(w, r, wk.cfg.Logger, err)
		return
	}
	if ctx.Err() != nil {
		// Past the time kept for answering (the write timeout is near) or the worker left, as
		// the event was recorded: an answer now may never reach the worker, so the credentials
		// are not handed out.
		outcome = exchange.Error
		wk.withheld(r, event, errAnswerLate)
		fail(w, r, wk.cfg.Logger, errAnswerLate)
		return
	}
	body, err := json.Marshal(map[string]any{
		"provider":    req.Provider,
		"integration": in.ID,
		"scope":       run.Scope,
		"expiresAt":   creds.ExpiresAt.UTC(),
		"env":         creds.Env,
		req.Provider:  creds.Detail,
	})
	if err != nil {
		outcome = exchange.Error
		wk.withheld(r, event, errAnswerUnwritten)
		fail(w, r, wk.cfg.Logger, fmt.Errorf("encode the credentials answer: %w", err))
		return
	}
	body = append(body, '\n')
	// Framed by its length, the answer leaves whole at the flush below (chunked, its last
	// chunk would be written only after the credentials counted as handed out).
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	writeJSONBytes(w, http.StatusOK, body)
	// Credentials are handed out when their answer leaves broker: one that cannot be written
	// (the write timeout passed, the worker's connection broke) is taken back.
	if err := http.NewResponseController(w).Flush(); err != nil {
		outcome = exchange.Error
		wk.withheld(r, event, errAnswerUnwritten)
		return
	}
	handed, outcome = true, exchange.Success
}

// errAnswerLate refuses credentials whose exchange and event ended too close to the server's
// write timeout (or after the worker left) for the answer to reach the worker.
var errAnswerLate = apierror.New(apierror.CodeUnavailable,
	"The credentials could not be answered before the server's write timeout; they were not handed out (those that can be revoked, a Vault token, were revoked). Ask again.")

// errAnswerUnwritten is why credentials whose answer could not be written are not handed out.
var errAnswerUnwritten = errors.New("the answer could not be written to the worker")

// withheldOutcome is how credentials withheld for why count: denied when the run, its stack or
// its attachments changed meanwhile (401, 409), error when broker could not tell (an outage).
func withheldOutcome(why error) exchange.Outcome {
	var e *apierror.Error
	if errors.As(why, &e) && (e.Code == apierror.CodeUnauthenticated || e.Code == apierror.CodeConflict) {
		return exchange.Denied
	}
	return exchange.Error
}

// takeBack revokes creds, obtained from ex and then not handed out, where the upstream allows
// it (exchange.Revoker): credentials nobody holds must not keep their access, write included,
// for their whole lifetime. The revocation runs on its own, so that however slow the upstream
// is, the refusal is answered at once (an answer is sent whole only when its handler returns).
func takeBack(ctx context.Context, ex exchange.Exchanger, in config.Integration, creds exchange.Credentials) {
	if rv, ok := exchange.RevokerOf(ex); ok {
		exchange.Revoking(func() { rv.Revoke(context.WithoutCancel(ctx), in, creds) })
	}
}

// exchanged is what a credentials exchange was done for.
type exchanged struct {
	// run is the run as read, at version (zero when the store gives none).
	run     runs.Run
	version runs.Version
	// integration is the one the exchange used, resolved from req.
	integration string
	// integrationVersion is the version of integration the exchange used.
	integrationVersion int64
	req                credentialsRequest
	// subjects are the `sub` claims of the tokens the upstream was shown.
	subjects []string
}

// stillInForce checks, once the exchange is done, that what it was done for still holds: the
// run is still live (see stillLive), and the attachment in force for it is still the
// integration used, at the version used (not re-pointed, nor deleted and created again). The
// error is the answer.
func (wk *Worker) stillInForce(r *http.Request, x exchanged) error {
	if err := wk.stillLive(r, x.run, x.version); err != nil {
		return err
	}
	cat := wk.cfg.Catalog.Load()
	in, err := cat.Resolve(x.run, x.req.Provider, x.req.Integration)
	now, _ := cat.Meta(catalog.Ref{Kind: catalog.KindIntegration, ID: in.ID})
	if err != nil || in.ID != x.integration || now.Version != x.integrationVersion {
		return apierror.New(apierror.CodeConflict, "The run's attachments or integration changed while its credentials were being exchanged; nothing was handed out. Ask again.")
	}
	for _, sub := range x.subjects {
		if !subjectHolds(cat, x.run, sub) {
			return apierror.New(apierror.CodeConflict, "The run's subject template changed while its credentials were being exchanged; nothing was handed out. Ask again.")
		}
	}
	return nil
}

// stillLive checks, once a token is signed or credentials exchanged for run (read at version),
// that the run may still have them: it is live (its stack was not deleted or moved meanwhile)
// in a catalog confirmed within catalog.MaxStale, since an exchange can outlast that bound
// and a replica cut off from the catalog meanwhile must not hand out what a deletion elsewhere
// withdrew. Without a Version to check at recording, it also reads the run again: it must not
// have finished or moved to another phase. The error is the answer.
func (wk *Worker) stillLive(r *http.Request, run runs.Run, version runs.Version) error {
	if version.IsZero() {
		now, _, err := wk.lookupRun(r) // confirms the catalog too
		if err != nil {
			return err
		}
		if now.Phase != run.Phase {
			return errRunChanged
		}
	} else if err := wk.current(r); err != nil {
		return err
	}
	if !wk.live(run) {
		return errRunToken
	}
	return nil
}

// withheld records that what issued handed out (a token, credentials) was not handed out after
// all, and why.
func (wk *Worker) withheld(r *http.Request, issued Event, why error) {
	e := issued
	e.Outcome, e.Detail, e.Version = "denied", issued.Detail+" not handed out: "+why.Error(), runs.Version{}
	recordAlways(r.Context(), wk.cfg.Events, wk.cfg.Logger, e)
}

// resolveError maps attachment resolution errors to the contract's codes.
func resolveError(err error) error {
	msg := capitalize(err.Error()) + "."
	switch {
	case errors.Is(err, exchange.ErrNotAttached), errors.Is(err, exchange.ErrUnknownIntegration):
		return apierror.New(apierror.CodeNotFound, "%s", msg)
	case errors.Is(err, exchange.ErrNotAttachedForScope):
		return apierror.New(apierror.CodeForbidden, "%s", msg)
	case errors.Is(err, exchange.ErrUnknownProvider), errors.Is(err, exchange.ErrWrongProvider):
		return apierror.New(apierror.CodeInvalidRequest, "%s", msg)
	case errors.Is(err, runs.ErrCorrupt):
		return errCorruptRun
	}
	return err
}

// exchangeError passes an upstream refusal on as 502 with its (scrubbed) message. Any other
// error not meant for the caller goes on to fail, which logs it, with its text scrubbed of
// secrets (an exchanger's error may quote a broker token or a credential), as the exchange's
// own log line and audit event have it.
func exchangeError(provider string, err error) error {
	var up *exchange.UpstreamError
	if errors.As(err, &up) {
		return apierror.New(apierror.CodeUpstream, "The %s exchange failed: %s.", provider, strings.TrimSuffix(up.Detail(), "."))
	}
	err = mintError(err)
	var apiErr *apierror.Error
	if errors.As(err, &apiErr) {
		return err
	}
	return scrubbedError{err}
}

// scrubbedError is an error whose text is scrubbed of secrets (exchange.Scrub) wherever it is
// written, its chain kept for errors.Is and errors.As.
type scrubbedError struct{ err error }

func (e scrubbedError) Error() string { return exchange.Scrub(e.err.Error()) }

func (e scrubbedError) Unwrap() error { return e.err }
