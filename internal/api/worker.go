package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"runtime"
	"sync"
	"time"

	"github.com/brokerhq/broker/internal/access"
	"github.com/brokerhq/broker/internal/apierror"
	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/claims"
	"github.com/brokerhq/broker/internal/exchange"
	"github.com/brokerhq/broker/internal/issuer"
	"github.com/brokerhq/broker/internal/jsonenc"
	"github.com/brokerhq/broker/internal/runs"
)

// WorkerConfig configures the worker plane.
type WorkerConfig struct {
	Store  runs.Store
	Issuer *issuer.Issuer
	Now    func() time.Time
	Logger *slog.Logger
	Events Recorder
	// Guard limits failed run-token attempts; nil means no limit.
	Guard *Guard
	// Catalog is the catalog in force: a run's stack must be in it, and its attachments say
	// which integration serves a run. Exchangers perform the exchange per provider.
	Catalog *catalog.Live
	// Current, when set, confirms the catalog in force is current with its store
	// (catalog.Manager.Current) before a run's stack and attachments are read from it, so that
	// a stack deleted, or an attachment removed, through another replica stops serving runs
	// here within catalog.MaxStale, also on a replica cut off from the store (503 after it).
	Current    func(context.Context) error
	Exchangers map[string]exchange.Exchanger
	// Metrics counts the tokens issued; nil counts nothing.
	Metrics *Metrics
	// RecordWhileSigning records a token's audit event while the token is signed rather than
	// after: set it when recording is a round trip (a store on the network), which the
	// signature then hides. Either way a token is handed out only when both its signature and
	// its event succeeded; an event recorded for a token whose signature then failed is
	// followed by one saying that token was not handed out.
	RecordWhileSigning bool
	// AnswerWithin is how long the server has to write an answer (http.write_timeout): an
	// exchange is cut short in time to answer its failure; zero leaves it to the integration's
	// timeout alone.
	AnswerWithin time.Duration
}

// Worker is the worker plane: a run, holding its run token, asks for ID tokens.
type Worker struct {
	cfg WorkerConfig
	// audiences holds the distinct audiences each run asked tokens for (MaxRunAudiences).
	audiences *audienceLedger
}

// NewWorker returns the worker plane.
func NewWorker(cfg WorkerConfig) *Worker {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Events == nil {
		cfg.Events = nopRecorder{}
	}
	return &Worker{cfg: cfg, audiences: newAudienceLedger()}
}

// TokenPath is the path of the worker's token endpoint, POST only. Its handler needs no
// flushing or hijacking of its answer: a plain-HTTP listener may read its requests itself
// (package fastpath).
const TokenPath = "/v1/token"

// Mount registers the worker-plane routes.
func (wk *Worker) Mount(rt *Router) {
	rt.HandleFunc("POST "+TokenPath, wk.token)
	rt.HandleFunc("POST /v1/credentials", wk.credentials)
}

// errRunToken is the one answer for every bad run token, so the answer reveals nothing about
// which part was wrong.
var errRunToken = apierror.New(apierror.CodeUnauthenticated, "The run token is not valid, or its run has finished or expired.")

// errCorruptRun answers a valid run token whose stored run record is inconsistent: the token is
// genuine, so the answer is 403, and nothing is issued for the run.
var errCorruptRun = apierror.New(apierror.CodeForbidden, "This run's stored record is inconsistent (its scope does not match its run type and phase); broker issues nothing for it.")

// authenticateRun returns the live run whose token r presents, with the Version of the record
// read (zero when the store has none); a failure is counted by the guard. A run whose record
// is inconsistent (runs.Run.EffectiveScope) is refused with errCorruptRun, and the refusal of
// action is audited.
func (wk *Worker) authenticateRun(r *http.Request, action string) (runs.Run, runs.Version, error) {
	run, v, err := wk.lookupRun(r)
	if errors.Is(err, errRunToken) {
		err = wk.cfg.Guard.Failed(r, err)
	}
	if err != nil {
		return runs.Run{}, runs.Version{}, err
	}
	if _, err := run.EffectiveScope(); err != nil {
		wk.cfg.Logger.ErrorContext(r.Context(), "refused a run whose stored record is inconsistent", "run", run.ID, "err", err)
		recordAlways(r.Context(), wk.cfg.Events, wk.cfg.Logger, Event{Actor: "run:" + run.ID, Action: action, Run: run,
			Outcome: "denied", Detail: "refused: " + err.Error()})
		return runs.Run{}, runs.Version{}, errCorruptRun
	}
	return run, v, nil
}

// lookupRun reads the run r's token names, with its Version when the store gives one
// (runs.Versioned).
func (wk *Worker) lookupRun(r *http.Request) (runs.Run, runs.Version, error) {
	token, err := access.BearerToken(r.Header)
	if err != nil {
		return runs.Run{}, runs.Version{}, errRunToken
	}
	var run runs.Run
	var v runs.Version
	if vs, ok := wk.cfg.Store.(runs.Versioned); ok {
		run, v, err = vs.GetByTokenVersion(r.Context(), runs.HashToken(token))
	} else {
		run, err = wk.cfg.Store.GetByToken(r.Context(), runs.HashToken(token))
	}
	switch {
	case errors.Is(err, runs.ErrNotFound):
		return runs.Run{}, runs.Version{}, errRunToken
	case err != nil:
		return runs.Run{}, runs.Version{}, err
	}
	if err := wk.current(r); err != nil {
		return runs.Run{}, runs.Version{}, err
	}
	if !wk.live(run) {
		return runs.Run{}, runs.Version{}, errRunToken
	}
	return run, v, nil
}

// errRunChanged answers a request whose run moved to another phase while the request worked
// for it: what it made was for the phase the run has left, and is not handed out.
var errRunChanged = apierror.New(apierror.CodeConflict, "The run moved to another phase while this request was being served; nothing was handed out. Ask again.")

// changedAnswer is the answer when the run r authenticated changed before what r made for it
// was recorded: 401 when its token no longer works (the run finished, expired or lost its
// stack), else errRunChanged.
func (wk *Worker) changedAnswer(r *http.Request) error {
	if _, _, err := wk.lookupRun(r); err != nil {
		return err
	}
	return errRunChanged
}

// current confirms the catalog in force is current with its store (WorkerConfig.Current).
func (wk *Worker) current(r *http.Request) error {
	if wk.cfg.Current == nil {
		return nil
	}
	return wk.cfg.Current(r.Context())
}

// live reports whether run may still act: not finished, not expired, the API key that started
// it not deleted, and its stack still in the space it started in. A run belongs to its stack in the space it started in: a deleted
// stack's runs end with it, on every replica as soon as its catalog has the change, and so do
// the runs of a stack moved to another space, whose credentials are not theirs. A stack
// created again under the same id does not revive the old stack's runs.
func (wk *Worker) live(run runs.Run) bool {
	if run.Phase == runs.Finished || !wk.cfg.Now().Before(run.ExpiresAt) {
		return false
	}
	return inForce(wk.cfg.Catalog.Load(), run)
}

// inForce reports whether run still stands in cat: its stack is the one it started on
// (withItsStack) and the API key that started it is the one in cat (withItsKey).
func inForce(cat *catalog.Catalog, run runs.Run) bool {
	return withItsStack(cat, run) && withItsKey(cat, run)
}

// withItsKey reports whether the API key that started run is still in cat, and is not a key
// created again under its id since (see catalog.Meta.Created): a deleted key, whose secret may
// have leaked, takes the runs it started with it, write phases included. A run that names no
// key (started before runs recorded it) passes.
func withItsKey(cat *catalog.Catalog, run runs.Run) bool {
	if run.CreatedBy == "" {
		return true
	}
	if _, ok := cat.APIKey(run.CreatedBy); !ok {
		return false
	}
	m, _ := cat.Meta(catalog.Ref{Kind: catalog.KindAPIKey, ID: run.CreatedBy})
	return !run.CreatedAt.Before(m.Created)
}

// withItsStack reports whether run's stack is still the one it started on: in the space the run
// started in, and not placed there again since (a stack deleted and created again, moved away
// and back, or entering the file on a reload counts as created then; see catalog.Meta.Created),
// and that space still where it was in the tree (a space moved to another parent, or below an
// ancestor that moved, takes its stacks' runs with it: the keys that started them no longer
// reach them, and those of the new place never allowed them).
func withItsStack(cat *catalog.Catalog, run runs.Run) bool {
	if space, ok := cat.StackSpace(run.Stack); !ok || space != run.Space {
		return false
	}
	m, _ := cat.Meta(catalog.Ref{Kind: catalog.KindStack, ID: run.Stack})
	return !run.CreatedAt.Before(m.Created) && !run.CreatedAt.Before(cat.SpacePlaced(run.Space))
}

// cachedRun returns the run r's token names as the store last read it (runs.Cache), when it
// has one that is live and consistent, with its Version: a token minted from it is handed out
// only if its audit event lands, which it does only while the stored run is unchanged. Any
// other case goes through authenticateRun, which reads the run and answers its failures.
func (wk *Worker) cachedRun(r *http.Request) (runs.Run, runs.Version, bool) {
	cache, ok := wk.cfg.Store.(runs.Cache)
	if !ok {
		return runs.Run{}, runs.Version{}, false
	}
	token, err := access.BearerToken(r.Header)
	if err != nil {
		return runs.Run{}, runs.Version{}, false
	}
	run, v, ok := cache.Cached(runs.HashToken(token))
	if !ok || !wk.live(run) {
		return runs.Run{}, runs.Version{}, false
	}
	if _, err := run.EffectiveScope(); err != nil {
		return runs.Run{}, runs.Version{}, false
	}
	return run, v, true
}

type tokenResponse struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expiresAt"`
}

// token mints a token for the run r authenticates. The run comes from the store's cache when it
// has it (cachedRun); if the stored run changed meanwhile, the token's audit event does not
// land, that token is dropped, and the run is read again and a token minted from it.
func (wk *Worker) token(w http.ResponseWriter, r *http.Request) {
	// The cached run's stack is checked against the catalog too: it must be current.
	if err := wk.current(r); err != nil {
		fail(w, r, wk.cfg.Logger, err)
		return
	}
	run, version, cached := wk.cachedRun(r)
	if !cached {
		var err error
		if run, version, err = wk.authenticateRun(r, "token.issue"); err != nil {
			fail(w, r, wk.cfg.Logger, err)
			return
		}
	}
	var req tokenRequest
	refused := wk.checkTokenRequest(r, run, &req)
	var tok issuer.Token
	err := refused.err
	if err == nil {
		tok, err = wk.issue(r, run, req.Audience, version)
	}
	for tries := 1; changed(err) && tries < maxIssueTries; tries++ {
		// The run read is stale: the token minted from it is not handed out. Read the run as
		// it is now, and mint again on the same condition.
		if run, version, err = wk.authenticateRun(r, "token.issue"); err != nil {
			fail(w, r, wk.cfg.Logger, err)
			return
		}
		cached = false
		tok, err = wk.issue(r, run, req.Audience, version)
	}
	if changed(err) {
		err = wk.changedAnswer(r)
	}
	if err != nil {
		if cached {
			// A finish, on this replica or another, does not reach the cache: the run is read
			// before any refusal, so that a finished run's token gets 401 whatever else failed
			// (its body, its audience, the key service).
			fresh, _, aerr := wk.authenticateRun(r, "token.issue")
			if aerr != nil {
				fail(w, r, wk.cfg.Logger, aerr)
				return
			}
			run = fresh
		}
		if refused.audited != nil {
			wk.audienceRefused(r, run, refused.audited)
		}
		fail(w, r, wk.cfg.Logger, err)
		return
	}
	wk.cfg.Metrics.tokenIssued(tok.Claims.Scope)
	writeTokenAnswer(w, tok)
}

// changed reports that err says the run changed while a token was minted from it: the token is
// not handed out, and another may be minted from the run as it is now.
func changed(err error) bool { return errors.Is(err, runs.ErrChanged) || errors.Is(err, errRunChanged) }

// maxIssueTries bounds the tokens one request mints while its run keeps changing under it.
const maxIssueTries = 3

// issue mints a token of run for audience and records its event, with version as the event's
// condition (zero for none), then checks the run again (stillLive). A token whose event is not
// recorded, or whose run is no longer live as read, is not returned: the error is
// runs.ErrChanged or errRunChanged when the run changed, the answer to send otherwise.
func (wk *Worker) issue(r *http.Request, run runs.Run, audience string, version runs.Version) (issuer.Token, error) {
	cat := wk.cfg.Catalog.Load() // Prepare renders the `sub` from this catalog or a later one
	d, err := wk.cfg.Issuer.Prepare(issuer.Request{Run: run, Audience: audience})
	if err != nil {
		return issuer.Token{}, mintError(err)
	}
	e := issueEvent(run, d.Claims, version)
	var tok issuer.Token
	var signErr, recErr error
	if wk.cfg.RecordWhileSigning {
		recorded := make(chan error, 1)
		go func() { recorded <- wk.cfg.Events.Record(r.Context(), e) }()
		// A goroutine just started waits for this processor until the current one blocks, and
		// a signature does not block: when every core is busy the event's round trip would
		// leave only after the signature. Yielding once lets it leave first.
		runtime.Gosched()
		tok, signErr = wk.cfg.Issuer.Sign(r.Context(), d)
		recErr = <-recorded
		if signErr != nil && recErr == nil {
			wk.notHandedOut(r, e)
		}
	} else if tok, signErr = wk.cfg.Issuer.Sign(r.Context(), d); signErr == nil {
		recErr = wk.cfg.Events.Record(r.Context(), e)
	}
	switch {
	case signErr != nil:
		return issuer.Token{}, mintError(signErr)
	case recErr == nil:
		// A stack deleted or moved, or (without a version) a run finished or moved on, while
		// the token was signed: its event is in the trail, but it is withheld.
		if err := wk.stillLive(r, run, version); err != nil {
			wk.withheld(r, e, err)
			return issuer.Token{}, err
		}
		// A catalog put in force since Prepare may render the run's `sub` otherwise (its
		// space's subject template changed): the token is withheld, and minted again.
		if now := wk.cfg.Catalog.Load(); now != cat && !subjectHolds(now, run, tok.Claims.Subject) {
			wk.withheld(r, e, errRunChanged)
			return issuer.Token{}, errRunChanged
		}
		return tok, nil
	case !version.IsZero() && errors.Is(recErr, runs.ErrChanged):
		return issuer.Token{}, runs.ErrChanged
	default:
		return issuer.Token{}, notRecorded(r.Context(), wk.cfg.Events, wk.cfg.Logger, e, recErr) // a token not in the trail is not handed out
	}
}

// issueEvent is the token.issue event of the token c of run, with version as its condition.
func issueEvent(run runs.Run, c claims.Claims, version runs.Version) Event {
	// Actor "run:<id>" and Detail "scope=<scope> aud=<aud> jti=<jti>" share one allocation:
	// the trail says of every token whether it could reach write, whatever the order of its
	// event and the run's.
	both := "run:" + run.ID + "scope=" + string(c.Scope) + " aud=" + c.Audience + " jti=" + c.ID
	actor, detail := both[:len("run:")+len(run.ID)], both[len("run:")+len(run.ID):]
	return Event{Actor: actor, Action: "token.issue", Run: run, Detail: detail, Version: version}
}

// notHandedOut follows issued, the event of a token recorded while it was signed, whose
// signature then failed: the trail says that token was not handed out.
func (wk *Worker) notHandedOut(r *http.Request, issued Event) {
	e := issued
	e.Outcome, e.Detail, e.Version = audit.Failed, issued.Detail+" not handed out: its signature failed", runs.Version{}
	if err := wk.cfg.Events.Record(r.Context(), e); err != nil {
		wk.cfg.Logger.ErrorContext(r.Context(), "audit: could not record that a token was not handed out", "run", e.Run.ID, "detail", issued.Detail, "err", err)
	}
}

// writeTokenAnswer sends tok as a tokenResponse, encoded by appends: the bytes writeJSON sends.
func writeTokenAnswer(w http.ResponseWriter, tok issuer.Token) {
	bp := answerBufs.Get().(*[]byte)
	defer putAnswerBuf(bp)
	b := jsonenc.StringField(append((*bp)[:0], '{'), "token", tok.JWT)
	b, ok := jsonenc.TimeField(b, "expiresAt", tok.ExpiresAt)
	*bp = b
	if !ok { // a year outside 0-9999: encoding/json's error path
		writeJSON(w, http.StatusOK, tokenResponse{Token: tok.JWT, ExpiresAt: tok.ExpiresAt})
		return
	}
	*bp = append(b, '}', '\n')
	writeJSONBytes(w, http.StatusOK, *bp) // a ResponseWriter does not keep what Write is given
}

// answerBufs recycles the buffers token answers are encoded into.
var answerBufs = sync.Pool{New: func() any { b := make([]byte, 0, 2<<10); return &b }}

// maxPooledAnswer is the largest buffer put back in answerBufs.
const maxPooledAnswer = 8 << 10

func putAnswerBuf(bp *[]byte) {
	if cap(*bp) > maxPooledAnswer {
		return
	}
	answerBufs.Put(bp)
}

// mintError maps issuer errors to API errors.
func mintError(err error) error {
	var notDue *issuer.AlgNotDueError
	switch {
	case errors.Is(err, issuer.ErrRunExpired), errors.Is(err, issuer.ErrUnknownSpace):
		// A run whose space left the catalog since it was found live has ended, as any run
		// of a deleted space.
		return errRunToken
	case errors.As(err, &notDue) && !notDue.Due.IsZero():
		return apierror.New(apierror.CodeUnavailable,
			"The audience accepts only %s, and the %s key added to the key set signs from %s, once every relying party can have fetched it (keys.rotation.prepublish); try again then.",
			notDue.Alg, notDue.Alg, notDue.Due.UTC().Format(time.RFC3339))
	case errors.Is(err, issuer.ErrNoSigningKey):
		return apierror.New(apierror.CodeUnavailable, "No signing key is active yet; try again shortly.")
	case errors.Is(err, runs.ErrCorrupt):
		return errCorruptRun
	default:
		return err
	}
}

// subjectHolds reports whether cat still renders sub as run's `sub`: a token or credentials
// obtained with a subject template that has changed since are not the run's any more.
func subjectHolds(cat *catalog.Catalog, run runs.Run, sub string) bool {
	cur, ok := cat.Subject(claims.Subject{SpaceID: run.Space, CallerType: claims.CallerTypeStack,
		CallerID: run.Stack, Run: run})
	return ok && cur == sub
}
