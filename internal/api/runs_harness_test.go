package api_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/api"
	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/exchange"
	"github.com/brokerhq/broker/internal/issuer"
	"github.com/brokerhq/broker/internal/runs"
	"github.com/brokerhq/broker/keys"
)

// Secrets of the API keys in runsHarnessConfig, named after the actions they hold on space prod.
const (
	secretCreate       = "key-create"        // run:create, run:read on prod
	secretCreateUpdate = "key-create-update" // run:create, run:read, run:update on prod
	secretUpdate       = "key-update"        // run:update, run:read on prod
	secretSplit        = "key-split"         // run:create on prod, run:update only on dev
	secretDev          = "key-dev"           // run:update, run:read on dev only
)

// runsHarnessConfig is a small configuration: stack vpc-prod in space prod with an AWS read and
// write attachment, and one API key per action set.
const runsHarnessConfig = `
issuer: https://broker.test
keys: {backend: memory, algorithm: ES256}
tokens: {ttl: 1h, default_audience: broker.test}
runs: {ttl: 3h}
spaces:
  - id: root
  - id: prod
    parent: root
  - id: dev
    parent: root
stacks:
  - {id: vpc-prod, space: prod}
integrations:
  - {id: aws-read, space: prod, aws: {role_arn: "arn:aws:iam::123456789012:role/read"}}
  - {id: aws-write, space: prod, aws: {role_arn: "arn:aws:iam::123456789012:role/write"}}
attachments:
  - {stack: vpc-prod, integration: aws-read, read: true}
  - {stack: vpc-prod, integration: aws-write, write: true}
roles:
  - {id: starter, actions: [run:create, run:read]}
  - {id: mover, actions: [run:update, run:read]}
  - {id: orchestrator, actions: [run:create, run:read, run:update]}
api_keys:
  - {id: create, secret_sha256: SHA_CREATE, bindings: [{role: starter, space: prod}]}
  - {id: create-update, secret_sha256: SHA_CREATE_UPDATE, bindings: [{role: orchestrator, space: prod}]}
  - {id: update, secret_sha256: SHA_UPDATE, bindings: [{role: mover, space: prod}]}
  - {id: split, secret_sha256: SHA_SPLIT, bindings: [{role: starter, space: prod}, {role: mover, space: dev}]}
  - {id: dev, secret_sha256: SHA_DEV, bindings: [{role: mover, space: dev}]}
`

// eventLog is a Recorder keeping every event; while failing is set it refuses every Record,
// and while staleVersions is set it refuses every event that carries a Version of flakyStore's
// cache with runs.ErrChanged, as the trail does when the stored run is no longer that version.
type eventLog struct {
	mu            sync.Mutex
	events        []api.Event
	failing       error
	staleVersions bool
	// before, when set, is called with each event ahead of recording it; its error refuses it.
	before func(api.Event) error
	// holder, when set, checks each event's run Version as the server's trail does with a store
	// in process: the event is kept only while the run is unchanged.
	holder runs.Holder
}

func (l *eventLog) Record(_ context.Context, e api.Event) error {
	l.mu.Lock()
	before := l.before
	l.mu.Unlock()
	if before != nil {
		if err := before(e); err != nil {
			return err
		}
	}
	l.mu.Lock()
	holder := l.holder
	l.mu.Unlock()
	if holder != nil && !e.Version.IsZero() {
		return holder.WhileUnchanged(e.Version, func() error { return l.keep(e) })
	}
	return l.keep(e)
}

// keep records e unless the log refuses it.
func (l *eventLog) keep(e api.Event) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.failing != nil {
		return l.failing
	}
	if l.staleVersions && strings.HasPrefix(e.Version.Digest, cachedDigest) {
		return runs.ErrChanged
	}
	l.events = append(l.events, e)
	return nil
}

// fail makes every later Record fail with err (nil to recover).
func (l *eventLog) fail(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.failing = err
}

// all returns the events recorded so far.
func (l *eventLog) all() []api.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]api.Event(nil), l.events...)
}

// fakeExchanger hands out credentials naming the integration they were exchanged with.
type fakeExchanger struct{}

func (fakeExchanger) Exchange(_ context.Context, req exchange.Request) (exchange.Credentials, error) {
	return exchange.Credentials{
		ExpiresAt: time.Now().Add(time.Hour),
		Env:       map[string]string{"AWS_ACCESS_KEY_ID": "AKIA-" + req.Integration.ID},
	}, nil
}

// flakyStore is a runs.Store whose Create and Update can be made to fail, or to let another
// writer in first (before, called with the run id ahead of each Update). It is a runs.Cache
// holding only the runs planted in cached.
type flakyStore struct {
	runs.Store
	mu        sync.Mutex
	createErr error
	updateErr error
	before    func(id string)
	cached    map[runs.TokenHash]runs.Run
}

// plant makes Cached answer token with run, at a version named after its phase.
func (f *flakyStore) plant(token string, run runs.Run) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cached == nil {
		f.cached = map[runs.TokenHash]runs.Run{}
	}
	f.cached[runs.HashToken(token)] = run
}

func (f *flakyStore) Cached(token runs.TokenHash) (runs.Run, runs.Version, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	run, ok := f.cached[token]
	if !ok {
		return runs.Run{}, runs.Version{}, false
	}
	return run, runs.Version{ID: run.ID, Token: token, Digest: cachedDigest + string(run.Phase)}, true
}

// cachedDigest begins the digest of every Version flakyStore's cache gives.
const cachedDigest = "cached:"

// GetByTokenVersion implements runs.Versioned when the wrapped store does (else the Version is
// zero).
func (f *flakyStore) GetByTokenVersion(ctx context.Context, token runs.TokenHash) (runs.Run, runs.Version, error) {
	if vs, ok := f.Store.(runs.Versioned); ok {
		return vs.GetByTokenVersion(ctx, token)
	}
	run, err := f.Store.GetByToken(ctx, token)
	return run, runs.Version{}, err
}

// set replaces the failures and the hook under the lock.
func (f *flakyStore) set(createErr, updateErr error, before func(id string)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.createErr, f.updateErr, f.before = createErr, updateErr, before
}

func (f *flakyStore) Create(ctx context.Context, run runs.Run, token runs.TokenHash) error {
	f.mu.Lock()
	err := f.createErr
	f.mu.Unlock()
	if err != nil {
		return err
	}
	return f.Store.Create(ctx, run, token)
}

func (f *flakyStore) Update(ctx context.Context, id string, fn func(runs.Run) (runs.Run, error)) (runs.Run, error) {
	f.mu.Lock()
	err, before := f.updateErr, f.before
	f.mu.Unlock()
	if before != nil {
		before(id)
	}
	if err != nil {
		return runs.Run{}, err
	}
	return f.Store.Update(ctx, id, fn)
}

// runsHarness is a control and worker plane on a memory store, served over loopback HTTP.
// The planes reach the store through flaky; tests read and plant runs in store directly.
type runsHarness struct {
	url string
	// handler serves both planes in process, for a test that needs the request itself (a body
	// that changes things while it is read).
	handler http.Handler
	store   *runs.Memory
	flaky   *flakyStore
	events  *eventLog
	// live is the catalog in force, which a test may replace.
	live *catalog.Live
	// finished is the control plane's FinishWatch, set by harnessOptions.watchFinishes.
	finished *runs.FinishWatch
}

// harnessOptions vary the worker plane of a runsHarness.
type harnessOptions struct {
	// recordWhileSigning is api.WorkerConfig.RecordWhileSigning.
	recordWhileSigning bool
	// wrapSigner, when set, wraps every signing key's crypto.Signer.
	wrapSigner func(crypto.Signer) crypto.Signer
	// checkVersions makes the trail record an event with a Version only while the stored run
	// is unchanged, as the server's trail does.
	checkVersions bool
	// versionless makes the planes' store give no Version, as a Redis Cluster's does.
	versionless bool
	// refusalsPerMinute, when positive, sends the planes' events through an api.RefusalLimit
	// of that many refusals per actor a minute, as the server does.
	refusalsPerMinute int
	// aws, when set, is the worker's exchanger for provider aws (fakeExchanger by default).
	aws exchange.Exchanger
	// workerNow, when set, is the worker's clock (api.WorkerConfig.Now).
	workerNow func() time.Time
	// current, when set, confirms the catalog for both planes (api.WorkerConfig.Current,
	// api.ControlConfig.Current).
	current func(context.Context) error
	// watchFinishes gives the control plane a runs.FinishWatch over the harness's store
	// (api.ControlConfig.Finished), kept in runsHarness.finished.
	watchFinishes bool
}

// wrappedKeys is a key source whose signing keys sign through wrap.
type wrappedKeys struct {
	src  issuer.KeySource
	wrap func(crypto.Signer) crypto.Signer
}

func (w wrappedKeys) Snapshot() *keys.Snapshot {
	snap := *w.src.Snapshot()
	snap.Signing.Signer = w.wrap(snap.Signing.Signer)
	snap.Signers = append([]keys.Key(nil), snap.Signers...)
	for i := range snap.Signers {
		snap.Signers[i].Signer = w.wrap(snap.Signers[i].Signer)
	}
	return &snap
}

// harnessConfig is runsHarnessConfig with the harness keys' secrets, parsed.
func harnessConfig(t *testing.T) *config.Config {
	t.Helper()
	yaml := strings.NewReplacer(
		"SHA_CREATE_UPDATE", sha256Hex(secretCreateUpdate), "SHA_CREATE", sha256Hex(secretCreate),
		"SHA_UPDATE", sha256Hex(secretUpdate), "SHA_SPLIT", sha256Hex(secretSplit), "SHA_DEV", sha256Hex(secretDev),
	).Replace(runsHarnessConfig)
	cfg, err := config.Parse("harness.yaml", []byte(yaml))
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	return cfg
}

func newRunsHarness(t *testing.T) *runsHarness {
	t.Helper()
	return newRunsHarnessWith(t, harnessOptions{})
}

func newRunsHarnessWith(t *testing.T, opts harnessOptions) *runsHarness {
	t.Helper()
	cfg := harnessConfig(t)
	log := slog.New(slog.DiscardHandler)
	mgr, err := keys.NewManager(keys.Config{Backend: keys.NewMemory(), Logger: log, Policy: keys.Policy{
		Period: cfg.Keys.Rotation.Period, Prepublish: cfg.Keys.Rotation.Prepublish,
		Retain: cfg.Keys.Rotation.Retain, Alg: cfg.Keys.Algorithm,
	}})
	if err != nil {
		t.Fatalf("keys: %v", err)
	}
	if _, err := mgr.Refresh(context.Background()); err != nil {
		t.Fatalf("keys: %v", err)
	}
	cat, err := catalog.Build(catalog.Input{File: catalog.FileObjects(cfg)})
	if err != nil {
		t.Fatal(err)
	}
	live := catalog.NewLive(cat)
	var src issuer.KeySource = mgr
	if opts.wrapSigner != nil {
		src = wrappedKeys{src: mgr, wrap: opts.wrapSigner}
	}
	iss, err := issuer.New(issuer.Config{Issuer: cfg.Issuer, Keys: src, TTL: cfg.Tokens.TTL,
		DefaultAudience: cfg.Tokens.DefaultAudience, Spaces: live})
	if err != nil {
		t.Fatal(err)
	}
	h := &runsHarness{store: runs.NewMemory(nil), events: &eventLog{}, live: live}
	h.flaky = &flakyStore{Store: h.store}
	var store runs.Store = h.flaky
	if opts.versionless {
		store = versionlessStore{Store: h.flaky}
	}
	if opts.checkVersions {
		h.events.holder = h.store
	}
	var aws exchange.Exchanger = fakeExchanger{}
	if opts.aws != nil {
		aws = opts.aws
	}
	var events api.Recorder = h.events
	if opts.refusalsPerMinute > 0 {
		events = &api.RefusalLimit{Recorder: h.events, PerActor: opts.refusalsPerMinute, Window: time.Minute, Logger: log}
	}
	if opts.watchFinishes {
		h.finished = runs.NewFinishWatch(h.store, log, nil)
	}
	rt := api.NewRouter()
	api.NewControl(api.ControlConfig{Store: store, Catalog: live, RunTTL: cfg.Runs.TTL,
		Logger: log, Events: events, Current: opts.current, Finished: h.finished}).Mount(rt)
	api.NewWorker(api.WorkerConfig{Store: store, Issuer: iss, Logger: log, Events: events,
		Catalog: live, Exchangers: map[string]exchange.Exchanger{"aws": aws},
		RecordWhileSigning: opts.recordWhileSigning, Now: opts.workerNow, Current: opts.current}).Mount(rt)
	srv := httptest.NewServer(rt)
	t.Cleanup(srv.Close)
	h.url, h.handler = srv.URL, rt
	return h
}

// dropStack puts in force a catalog without stack id and without any attachment, as a deletion of
// the stack through the API would.
func (h *runsHarness) dropStack(t *testing.T, id string) {
	t.Helper()
	cur := h.live.Load().Objects()
	cur.Stacks = slices.DeleteFunc(cur.Stacks, func(s config.Stack) bool { return s.ID == id })
	cur.Attachments = nil
	next, err := catalog.Build(catalog.Input{File: cur})
	if err != nil {
		t.Fatal(err)
	}
	h.live.Store(next)
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// apiError is the contract's error envelope.
type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// envelopeCodes are the contract's error codes by status.
var envelopeCodes = map[int]string{400: "invalid_request", 401: "unauthenticated", 403: "forbidden",
	404: "not_found", 409: "conflict", 429: "rate_limited", 500: "internal", 503: "unavailable"}

// request is one call to the harness's server: the method (POST when empty), the path, the
// bearer secret ("" sends no Authorization header), the body sent as JSON (nil sends none) and
// out, which a success answer is decoded into (nil ignores it).
type request struct {
	method, path, bearer string
	body, out            any
}

// call sends r, checks that an error answer is the envelope with the status's code, and decodes
// a success answer into r.out (when not nil). It returns the status and, for an error, the
// envelope.
func (h *runsHarness) call(t *testing.T, r request) (int, apiError) {
	t.Helper()
	method := r.method
	if method == "" {
		method = "POST"
	}
	var rd io.Reader
	if r.body != nil {
		data, err := json.Marshal(r.body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, h.url+r.path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if r.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+r.bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, r.path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var env apiError
	if resp.StatusCode >= 400 {
		if err := json.Unmarshal(raw, &env); err != nil || env.Error.Code != envelopeCodes[resp.StatusCode] || env.Error.Message == "" {
			t.Errorf("%s %s: status %d with body %s, want the envelope with code %q", method, r.path, resp.StatusCode, raw, envelopeCodes[resp.StatusCode])
		}
		return resp.StatusCode, env
	}
	if r.out != nil {
		if err := json.Unmarshal(raw, r.out); err != nil {
			t.Fatalf("%s %s: decode %s: %v", method, r.path, raw, err)
		}
	}
	return resp.StatusCode, env
}

// started is POST /v1/runs's answer.
type started struct {
	Run      runs.Run `json:"run"`
	RunToken string   `json:"runToken"`
}

// start creates a run of vpc-prod with the create-update key and fails the test unless it gets 201.
func (h *runsHarness) start(t *testing.T, runType runs.Type, phase runs.Phase) started {
	t.Helper()
	var ans started
	body := map[string]string{"stack": "vpc-prod", "runType": string(runType), "phase": string(phase)}
	if code, env := h.call(t, request{path: "/v1/runs", bearer: secretCreateUpdate, body: body, out: &ans}); code != http.StatusCreated {
		t.Fatalf("start %s run in %q: %d %s", runType, phase, code, env.Error.Message)
	}
	return ans
}

// eventsOf returns the recorded events of action with outcome.
func (h *runsHarness) eventsOf(action, outcome string) []api.Event {
	var out []api.Event
	for _, e := range h.events.all() {
		o := e.Outcome
		if o == "" {
			o = "success"
		}
		if e.Action == action && o == outcome {
			out = append(out, e)
		}
	}
	return out
}
