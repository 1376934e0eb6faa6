package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/brokerhq/broker/internal/access"
	"github.com/brokerhq/broker/internal/apierror"
	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/runs"
)

// ControlConfig configures the control plane.
type ControlConfig struct {
	Store runs.Store
	// Catalog is the catalog in force: API keys, roles, spaces and stacks.
	Catalog *catalog.Live
	RunTTL  time.Duration
	Now     func() time.Time
	Logger  *slog.Logger
	Events  Recorder
	// Guard limits failed API-key attempts; nil means no limit.
	Guard *Guard
	// Audit is the trail GET /v1/audit lists.
	Audit audit.Store
	// Current, when set, returns nil when Catalog is current with its store (see
	// catalog.Manager.Current); an API key is taken only then.
	Current func(context.Context) error
	// Finished, when set, is told of every run this replica finishes (see runs.FinishWatch);
	// NewControl has it record each run it finishes again in Events, as a run.finish event of
	// the actor finishAgainActor.
	Finished *runs.FinishWatch
}

// Control is the control plane: runs started, read, moved and finished with an API key.
type Control struct {
	cfg ControlConfig
}

// NewControl returns the control plane.
func NewControl(cfg ControlConfig) *Control {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Events == nil {
		cfg.Events = nopRecorder{}
	}
	if cfg.Audit == nil {
		cfg.Audit = audit.NewMemory()
	}
	if cfg.Finished != nil {
		events := cfg.Events
		cfg.Finished.RecordWith(func(ctx context.Context, ended runs.Run, from runs.Phase) error {
			return events.Record(ctx, Event{Actor: finishAgainActor, Action: "run.finish", Run: ended,
				Detail: string(from) + " -> FINISHED again: the store lost this run's finish"})
		})
	}
	return &Control{cfg: cfg}
}

// finishAgainActor is the actor of the event of a run finished again because the store lost
// its finish (see runs.FinishWatch).
const finishAgainActor = "system:finishwatch"

// Mount registers the control-plane routes.
func (c *Control) Mount(rt *Router) {
	rt.HandleFunc("POST /v1/runs", c.create)
	rt.HandleFunc("GET /v1/runs/{id}", c.get)
	rt.HandleFunc("POST /v1/runs/{id}/phase", c.phase)
	rt.HandleFunc("POST /v1/runs/{id}/finish", c.finish)
	rt.HandleFunc("GET /v1/audit", c.listAudit)
}

type createRunRequest struct {
	Stack   string `json:"stack"`
	RunType string `json:"runType"`
	Phase   string `json:"phase"`
}

type runResponse struct {
	Run      runs.Run `json:"run"`
	RunToken string   `json:"runToken,omitempty"`
}

// authenticate returns the API key presented with r; a failure is counted by the guard.
func (c *Control) authenticate(r *http.Request) (access.Principal, error) {
	secret, err := access.BearerToken(r.Header)
	if err != nil {
		return access.Principal{}, c.cfg.Guard.Failed(r, err)
	}
	// A key deleted through another replica may still be in a catalog not read lately.
	if err := c.current(r); err != nil {
		return access.Principal{}, err
	}
	p, err := c.cfg.Catalog.Load().Access().Authenticate(secret)
	if err != nil {
		err = c.cfg.Guard.Failed(r, err)
	}
	return p, err
}

// current confirms the catalog in force is current with its store (ControlConfig.Current):
// found so within catalog.MaxStale, or read again now. Its error (catalog.ErrUnavailable) is
// the answer.
func (c *Control) current(r *http.Request) error {
	if c.cfg.Current == nil {
		return nil
	}
	return c.cfg.Current(r.Context())
}

func (c *Control) create(w http.ResponseWriter, r *http.Request) {
	p, err := c.authenticate(r)
	if err != nil {
		c.refuse(w, r, Event{Action: "run.create"}, err)
		return
	}
	var req createRunRequest
	if err := decodeBody(r, &req, bodyRequired); err != nil {
		fail(w, r, c.cfg.Logger, err)
		return
	}
	cat := c.cfg.Catalog.Load()
	space, ok := cat.StackSpace(req.Stack)
	if !ok {
		if req.Stack == "" {
			fail(w, r, c.cfg.Logger, apierror.New(apierror.CodeInvalidRequest, "Field \"stack\" is required."))
		} else {
			fail(w, r, c.cfg.Logger, apierror.New(apierror.CodeNotFound, "No stack with id %q.", req.Stack))
		}
		return
	}
	attempt := Event{Actor: "api_key:" + p.KeyID, Action: "run.create", Run: runs.Run{Space: space, Stack: req.Stack}}
	refuse := func(err error) {
		if hidden := hiddenStack(cat, p, space, req.Stack, err); hidden != nil {
			attempt.Outcome, attempt.Detail = "denied", err.Error()
			recordRefusal(r.Context(), c.cfg.Events, c.cfg.Logger, attempt) // filed where the key cannot read
			fail(w, r, c.cfg.Logger, hidden)
			return
		}
		c.refuse(w, r, attempt, err)
	}
	if err := cat.Access().Allowed(p, config.ActionRunCreate, space); err != nil {
		refuse(err)
		return
	}
	runType, err := runs.ParseType(req.RunType)
	if err != nil {
		fail(w, r, c.cfg.Logger, apierror.New(apierror.CodeInvalidRequest, "Field \"runType\" must be PROPOSED, TRACKED, TASK or DESTROY."))
		return
	}
	phase := runs.Initializing
	if req.Phase != "" {
		if phase, err = runs.ParsePhase(req.Phase); err == nil {
			err = runs.CheckInitialPhase(runType, phase)
		}
		if err != nil {
			fail(w, r, c.cfg.Logger, apierror.New(apierror.CodeInvalidRequest, "Field \"phase\": %q is not a phase a %s run can start in.", req.Phase, runType))
			return
		}
	}
	// A run started in its write phase holds write scope at once: that start needs run:update too.
	start := runs.NewRun{Space: space, Stack: req.Stack, Type: runType, Phase: phase, CreatedBy: p.KeyID}
	if err := cat.Access().AllowedToStart(p, start); err != nil {
		refuse(err)
		return
	}
	start.TTL = c.cfg.RunTTL
	if start.Now, err = startTime(cat, c.cfg.Now(), start); err != nil {
		c.cfg.Logger.WarnContext(r.Context(), "run start refused: its stack, space or key counts as placed ahead of this replica's clock", "stack", req.Stack, "err", err)
		fail(w, r, c.cfg.Logger, errPlacedAhead)
		return
	}
	run, token, err := runs.New(start)
	if err != nil {
		fail(w, r, c.cfg.Logger, err)
		return
	}
	// The event goes first: a run is stored only once its creation is in the trail.
	event := Event{Actor: "api_key:" + p.KeyID, Action: "run.create", Run: run}
	if err := c.cfg.Events.Record(r.Context(), event); err != nil {
		fail(w, r, c.cfg.Logger, notRecorded(r.Context(), c.cfg.Events, c.cfg.Logger, event, err))
		return
	}
	if err := c.cfg.Store.Create(r.Context(), run, runs.HashToken(token)); err != nil {
		event.Outcome, event.Detail = "error", "not stored: "+err.Error()
		if errors.Is(err, runs.ErrUnavailable) {
			// A store that did not answer may still apply the write later: the run may then
			// exist, but its run token was never handed out, so nobody can use it.
			event.Detail = "not confirmed stored, and its run token was not handed out: " + err.Error()
		}
		recordAlways(r.Context(), c.cfg.Events, c.cfg.Logger, event)
		fail(w, r, c.cfg.Logger, err)
		return
	}
	// The key's rights are those in force when the run is stored: a key deleted, its secret
	// replaced or its role narrowed while the start was recorded and stored gets no run token,
	// and a run whose token was never handed out is of no use to anyone. Those rights are read
	// in a catalog confirmed current within catalog.MaxStale: a replica cut off from the
	// catalog's store meanwhile (on a Redis Cluster, its node may be out of reach while the
	// runs' is not) hands out no token on rights another replica has withdrawn.
	err = c.current(r)
	now := c.cfg.Catalog.Load()
	if err == nil {
		err = now.Access().AllowedToStart(p, start)
	}
	if err != nil || !inForce(now, run) {
		if err == nil {
			err = apierror.New(apierror.CodeConflict, "Stack %q or its space was deleted or moved while the run was started; no run token was handed out. Ask again.", run.Stack)
		}
		event.Outcome, event.Detail = "denied", "run token not handed out: "+err.Error()
		recordAlways(r.Context(), c.cfg.Events, c.cfg.Logger, event)
		fail(w, r, c.cfg.Logger, err)
		return
	}
	writeJSON(w, http.StatusCreated, runResponse{Run: run, RunToken: token})
}

// maxAhead bounds how far ahead of this replica's clock a run may start: an object placed
// again counts as placed catalog.SettleTime later, and another replica's clock may be ahead of
// this one's by a second.
const maxAhead = catalog.SettleTime + time.Second

// errPlacedAhead answers a start that startTime refused.
var errPlacedAhead = apierror.New(apierror.CodeUnavailable, "The stack, its space or the API key was changed moments ago on a replica whose clock is ahead of this one's; try again shortly.")

// startTime is when a run of start begins, now on this replica's clock: later when its stack,
// a space above it or its key counts as placed later (an object placed again moments after an
// earlier one with its id left counts as placed catalog.SettleTime later, and another replica's
// clock may be ahead of this one's), or the run would be born ended. Past maxAhead it is an
// error: a clock that ran far ahead when the object was placed would otherwise date the run,
// and its expiry, into the future, past runs.ttl and past a deletion of the stack.
func startTime(cat *catalog.Catalog, now time.Time, start runs.NewRun) (time.Time, error) {
	at := now
	for _, ref := range []catalog.Ref{{Kind: catalog.KindStack, ID: start.Stack}, {Kind: catalog.KindAPIKey, ID: start.CreatedBy}} {
		if m, ok := cat.Meta(ref); ok && at.Before(m.Created) {
			at = m.Created
		}
	}
	if placed := cat.SpacePlaced(start.Space); at.Before(placed) {
		at = placed
	}
	if at.Sub(now) > maxAhead {
		return now, fmt.Errorf("placed at %s, %s ahead of this replica's clock", at.Format(time.RFC3339Nano), at.Sub(now))
	}
	return at, nil
}

// authorizedRun authenticates r, loads the run named in its path and checks action on its space.
func (c *Control) authorizedRun(r *http.Request, action string) (access.Principal, runs.Run, error) {
	p, err := c.authenticate(r)
	if err != nil {
		return p, runs.Run{}, err
	}
	run, err := c.cfg.Store.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		return p, run, err
	}
	cat := c.cfg.Catalog.Load()
	acc, space := cat.Access(), RunHome(cat, run)
	if !acc.Covers(p, space) {
		return p, run, errHiddenRun
	}
	return p, run, acc.Allowed(p, action, space)
}

// RunHome is the space that holds run: its own, or root when the space it began in was
// deleted since, and with it where it stood (a space made again under its id is another one):
// only a binding on root still covers the run, to read or finish it, and only root's listing
// holds its events.
func RunHome(cat *catalog.Catalog, run runs.Run) string {
	if _, ok := cat.Space(run.Space); !ok || spaceReborn(cat, run) {
		return config.RootSpace
	}
	return run.Space
}

// spaceReborn reports whether the space holding run's space id is another one than the run
// began in: it took its place itself after the run began (created, or moved), and the run's
// stack is no longer there as it was. A space is deleted only once it holds no stack, while a
// space that moved keeps its stacks.
func spaceReborn(cat *catalog.Catalog, run runs.Run) bool {
	m, _ := cat.Meta(catalog.Ref{Kind: catalog.KindSpace, ID: run.Space})
	if !run.CreatedAt.Before(m.Created) {
		return false
	}
	if space, ok := cat.StackSpace(run.Stack); !ok || space != run.Space {
		return true
	}
	sm, _ := cat.Meta(catalog.Ref{Kind: catalog.KindStack, ID: run.Stack})
	return run.CreatedAt.Before(sm.Created)
}

// errHiddenRun: the run is in a space none of the key's bindings covers. It is answered like a
// run that does not exist, so that a run id (it shows in the clouds' logs) tells a key with no
// business there neither that the run exists nor its space; the refusal is recorded in the run's
// space.
var errHiddenRun = fmt.Errorf("%w: the API key has no binding covering its space", runs.ErrNotFound)

func (c *Control) get(w http.ResponseWriter, r *http.Request) {
	p, run, err := c.authorizedRun(r, config.ActionRunRead)
	if err != nil {
		c.refuse(w, r, Event{Actor: "api_key:" + p.KeyID, Action: "run.read", Run: run}, err)
		return
	}
	if run.Phase != runs.Finished && !inForce(c.cfg.Catalog.Load(), run) {
		// It ended when its stack was deleted or moved, or its key deleted (no token or
		// credentials for it since):
		// shown as finished, which POST /finish then stores.
		if ended, err := run.MoveTo(runs.Finished); err == nil {
			run = ended
		}
	}
	writeJSON(w, http.StatusOK, runResponse{Run: run})
}

type phaseRequest struct {
	Phase string `json:"phase"`
}

func (c *Control) phase(w http.ResponseWriter, r *http.Request) {
	p, run, err := c.authorizedRun(r, config.ActionRunUpdate)
	if err != nil {
		c.refuse(w, r, Event{Actor: "api_key:" + p.KeyID, Action: "run.phase", Run: run}, err)
		return
	}
	var req phaseRequest
	if err := decodeBody(r, &req, bodyRequired); err != nil {
		fail(w, r, c.cfg.Logger, err)
		return
	}
	to, err := runs.ParsePhase(req.Phase)
	if err != nil {
		fail(w, r, c.cfg.Logger, apierror.New(apierror.CodeInvalidRequest, "Field \"phase\" must be a phase name such as PLANNING or APPLYING."))
		return
	}
	if to != runs.Finished && run.Phase != runs.Finished && !inForce(c.cfg.Catalog.Load(), run) {
		// Its token no longer works, and moving it on would not make it work again.
		err := apierror.New(apierror.CodeConflict, "Run %s ended when its stack %q was deleted or moved, or the API key that started it was deleted; it can only be finished.", run.ID, run.Stack)
		recordRefusal(r.Context(), c.cfg.Events, c.cfg.Logger, Event{Actor: "api_key:" + p.KeyID, Action: "run.phase", Run: run, Outcome: "denied", Detail: err.Error()})
		fail(w, r, c.cfg.Logger, err)
		return
	}
	c.move(w, r, moveRequest{principal: p, run: run, to: to})
}

func (c *Control) finish(w http.ResponseWriter, r *http.Request) {
	p, run, err := c.authorizedRun(r, config.ActionRunUpdate)
	if err != nil {
		c.refuse(w, r, Event{Actor: "api_key:" + p.KeyID, Action: "run.finish", Run: run}, err)
		return
	}
	if err := decodeBody(r, &struct{}{}, bodyOptional); err != nil {
		fail(w, r, c.cfg.Logger, err)
		return
	}
	if run.Phase == runs.Finished {
		// Finished already, as a retry finds it when the first finish's answer was lost: the
		// answer is the run, as the first one would have been.
		writeJSON(w, http.StatusOK, runResponse{Run: run})
		return
	}
	c.move(w, r, moveRequest{principal: p, run: run, to: runs.Finished, finishedIsDone: true})
}

type moveRequest struct {
	principal access.Principal
	run       runs.Run // as loaded before the move
	to        runs.Phase
	// finishedIsDone answers a run that another writer finished meanwhile with the run (200),
	// as the finish endpoint answers a run found finished: the race of two finishes (a retry
	// whose first answer was lost) is no conflict.
	finishedIsDone bool
}

// move applies a phase transition so that no stored phase change lacks its event: the event is
// recorded first, and only then is the change stored, as a compare-and-swap that applies it only
// to the run still in the phase the event names. A failed record stores nothing (503). A store
// that then fails, or a run that moved meanwhile (409), leaves an event for a change that did
// not happen, or (a store that did not answer) that is not known to have happened; it is
// followed by an "error" event saying which (notMovedDetail), on a best-effort basis.
func (c *Control) move(w http.ResponseWriter, r *http.Request, m moveRequest) {
	actor, action, from := "api_key:"+m.principal.KeyID, "run.phase", m.run.Phase
	if m.to == runs.Finished {
		action = "run.finish"
	}
	next, err := m.run.MoveTo(m.to)
	if err != nil {
		if errors.Is(err, runs.ErrTransition) {
			recordRefusal(r.Context(), c.cfg.Events, c.cfg.Logger, Event{Actor: actor, Action: action, Run: m.run, Outcome: "denied", Detail: err.Error()})
		}
		fail(w, r, c.cfg.Logger, err)
		return
	}
	var run runs.Run
	for attempt := 1; ; attempt++ {
		event := Event{Actor: actor, Action: action, Run: next, Detail: string(from) + " -> " + string(m.to)}
		if err := c.cfg.Events.Record(r.Context(), event); err != nil {
			fail(w, r, c.cfg.Logger, notRecorded(r.Context(), c.cfg.Events, c.cfg.Logger, event, err))
			return
		}
		run, err = c.cfg.Store.Update(r.Context(), m.run.ID, func(cur runs.Run) (runs.Run, error) {
			if cur.Phase != from {
				return runs.Run{}, movedMeanwhile{from: from, now: cur}
			}
			if m.to != runs.Finished {
				// The key's rights are those in force when the move is stored: a key deleted, or
				// its role narrowed, since the request was authorized moves no run on (toward
				// write). Finishing only takes rights away. They are read in a catalog confirmed
				// current within catalog.MaxStale, as at authentication: a replica cut off from
				// the catalog's store moves no run on rights another replica has withdrawn.
				// Current reads the store only when the confirmation authentication renewed has
				// aged past catalog.MaxStale since, so fn stays quick but for that case.
				if err := c.current(r); err != nil {
					return runs.Run{}, err
				}
				if err := c.cfg.Catalog.Load().Access().Allowed(m.principal, config.ActionRunUpdate, cur.Space); err != nil {
					return runs.Run{}, err
				}
			}
			return cur.MoveTo(m.to)
		})
		if err == nil {
			break
		}
		event.Outcome, event.Detail = "error", event.Detail+" "+notMovedDetail(err)
		recordAlways(r.Context(), c.cfg.Events, c.cfg.Logger, event)
		// A finish is valid from every unfinished phase: one raced by a move (toward write, say)
		// finishes the run from where the move left it, under an event of its own, rather than
		// leave it in a phase whose tokens the caller meant to end.
		var moved movedMeanwhile
		if m.finishedIsDone && errors.As(err, &moved) && moved.now.Phase == runs.Finished {
			run = moved.now
			break
		}
		if m.to == runs.Finished && attempt < finishAttempts && errors.As(err, &moved) && moved.now.Phase != runs.Finished {
			if again, err := moved.now.MoveTo(runs.Finished); err == nil {
				from, next = moved.now.Phase, again
				continue
			}
		}
		fail(w, r, c.cfg.Logger, err)
		return
	}
	if m.to == runs.Finished && c.cfg.Finished != nil {
		c.cfg.Finished.Note(run.ID)
	}
	writeJSON(w, http.StatusOK, runResponse{Run: run})
}

// finishAttempts bounds how many times a finish raced by other moves is tried again from the
// phase the run moved to.
const finishAttempts = 3

// movedMeanwhile is the error of a phase move whose run moved from the phase its event names
// before the move was stored: a runs.ErrTransition (409), holding the run as it is now.
type movedMeanwhile struct {
	from runs.Phase
	now  runs.Run
}

func (e movedMeanwhile) Error() string {
	return fmt.Sprintf("%v: the run moved from %s to %s meanwhile; read it and retry", runs.ErrTransition, e.from, e.now.Phase)
}

func (e movedMeanwhile) Unwrap() error { return runs.ErrTransition }

// notMovedDetail words a phase move whose compare-and-swap failed with err, as its "error"
// event says it: a store that did not answer (runs.ErrUnavailable), or a call cut off by the
// request's context (its client gone, or a deadline) while the store ran it, may still have
// applied it with the reply lost, so the move is "not confirmed stored", as a run start is in
// that case; any other failure left the run as it was: "not applied". A catalog that could
// not be confirmed current (catalog.ErrUnavailable, also when its read was cut off by the
// request's context) refused the move in its own re-check, before anything was sent to store
// it: "not applied".
func notMovedDetail(err error) string {
	if errors.Is(err, catalog.ErrUnavailable) {
		return "not applied: " + err.Error()
	}
	if errors.Is(err, runs.ErrUnavailable) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return "not confirmed stored: " + err.Error()
	}
	return "not applied: " + err.Error()
}

// hiddenStack is the answer to err, a refusal to start a run of stack in space, for a key with
// no binding covering space, which GET answers like a stack that does not exist: the very answer
// to a stack that does not exist, so that the key can neither locate the stack nor tell that it
// exists. It is nil for any other key or error, whose refusal is answered as it is.
func hiddenStack(cat *catalog.Catalog, p access.Principal, space, stack string, err error) error {
	if !errors.Is(err, access.ErrForbidden) || cat.Access().Covers(p, space) {
		return nil
	}
	return apierror.New(apierror.CodeNotFound, "No stack with id %q.", stack)
}
