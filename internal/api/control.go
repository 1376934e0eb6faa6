package api

import (
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/brokerhq/broker/internal/access"
	"github.com/brokerhq/broker/internal/apierror"
	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/runs"
)

// ControlConfig configures the control plane.
type ControlConfig struct {
	Store  runs.Store
	Access *access.Authorizer
	// Stacks maps a stack id to its space id.
	Stacks map[string]string
	RunTTL time.Duration
	Now    func() time.Time
	Logger *slog.Logger
	Events Recorder
	// Guard limits failed API-key attempts; nil means no limit.
	Guard *Guard
	// Audit is the trail GET /v1/audit lists; Spaces are the space ids it may be asked for.
	Audit  audit.Store
	Spaces map[string]bool
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
	return &Control{cfg: cfg}
}

// Mount registers the control-plane routes.
func (c *Control) Mount(rt *Router) {
	rt.HandleFunc("POST /v1/runs", c.create)
	rt.HandleFunc("GET /v1/runs/{id}", c.get)
	rt.HandleFunc("POST /v1/runs/{id}/phase", c.phase)
	rt.HandleFunc("POST /v1/runs/{id}/finish", c.finish)
	rt.HandleFunc("GET /v1/audit", c.listAudit)
}

// StacksOf maps every stack of cfg to its space.
func StacksOf(cfg *config.Config) map[string]string {
	m := make(map[string]string, len(cfg.Stacks))
	for _, s := range cfg.Stacks {
		m[s.ID] = s.Space
	}
	return m
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
	p, err := c.cfg.Access.Authenticate(secret)
	if err != nil {
		err = c.cfg.Guard.Failed(r, err)
	}
	return p, err
}

func (c *Control) create(w http.ResponseWriter, r *http.Request) {
	p, err := c.authenticate(r)
	if err != nil {
		fail(w, r, c.cfg.Logger, err)
		return
	}
	var req createRunRequest
	if err := decodeBody(r, &req, bodyRequired); err != nil {
		fail(w, r, c.cfg.Logger, err)
		return
	}
	space, ok := c.cfg.Stacks[req.Stack]
	if !ok {
		if req.Stack == "" {
			fail(w, r, c.cfg.Logger, apierror.New(apierror.CodeInvalidRequest, "Field \"stack\" is required."))
		} else {
			fail(w, r, c.cfg.Logger, apierror.New(apierror.CodeNotFound, "No stack with id %q.", req.Stack))
		}
		return
	}
	if err := c.cfg.Access.Allowed(p, config.ActionRunCreate, space); err != nil {
		fail(w, r, c.cfg.Logger, err)
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
	run, token, err := runs.New(runs.NewRun{Space: space, Stack: req.Stack, Type: runType, Phase: phase, Now: c.cfg.Now(), TTL: c.cfg.RunTTL})
	if err != nil {
		fail(w, r, c.cfg.Logger, err)
		return
	}
	if err := c.cfg.Store.Create(r.Context(), run, runs.HashToken(token)); err != nil {
		fail(w, r, c.cfg.Logger, err)
		return
	}
	if err := c.cfg.Events.Record(r.Context(), Event{Actor: "api_key:" + p.KeyID, Action: "run.create", Run: run}); err != nil {
		fail(w, r, c.cfg.Logger, err)
		return
	}
	writeJSON(w, http.StatusCreated, runResponse{Run: run, RunToken: token})
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
	return p, run, c.cfg.Access.Allowed(p, action, run.Space)
}

func (c *Control) get(w http.ResponseWriter, r *http.Request) {
	_, run, err := c.authorizedRun(r, config.ActionRunRead)
	if err != nil {
		fail(w, r, c.cfg.Logger, err)
		return
	}
	writeJSON(w, http.StatusOK, runResponse{Run: run})
}

type phaseRequest struct {
	Phase string `json:"phase"`
}

func (c *Control) phase(w http.ResponseWriter, r *http.Request) {
	p, run, err := c.authorizedRun(r, config.ActionRunUpdate)
	if err != nil {
		fail(w, r, c.cfg.Logger, err)
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
	c.move(w, r, moveRequest{principal: p, run: run, to: to})
}

func (c *Control) finish(w http.ResponseWriter, r *http.Request) {
	p, run, err := c.authorizedRun(r, config.ActionRunUpdate)
	if err != nil {
		fail(w, r, c.cfg.Logger, err)
		return
	}
	if err := decodeBody(r, &struct{}{}, bodyOptional); err != nil {
		fail(w, r, c.cfg.Logger, err)
		return
	}
	c.move(w, r, moveRequest{principal: p, run: run, to: runs.Finished})
}

type moveRequest struct {
	principal access.Principal
	run       runs.Run // as loaded before the move
	to        runs.Phase
}

// move applies a phase transition as a compare-and-swap in the store.
func (c *Control) move(w http.ResponseWriter, r *http.Request, m moveRequest) {
	var from runs.Phase
	run, err := c.cfg.Store.Update(r.Context(), m.run.ID, func(cur runs.Run) (runs.Run, error) {
		from = cur.Phase
		return cur.MoveTo(m.to)
	})
	if err != nil {
		if errors.Is(err, runs.ErrTransition) {
			recordRefusal(r.Context(), c.cfg.Events, c.cfg.Logger, Event{Actor: "api_key:" + m.principal.KeyID, Action: "run.phase", Run: m.run, Outcome: "denied", Detail: err.Error()})
		}
		fail(w, r, c.cfg.Logger, err)
		return
	}
	action := "run.phase"
	if m.to == runs.Finished {
		action = "run.finish"
	}
	if err := c.cfg.Events.Record(r.Context(), Event{Actor: "api_key:" + m.principal.KeyID, Action: action, Run: run, Detail: string(from) + " -> " + string(m.to)}); err != nil {
		fail(w, r, c.cfg.Logger, err)
		return
	}
	writeJSON(w, http.StatusOK, runResponse{Run: run})
}
