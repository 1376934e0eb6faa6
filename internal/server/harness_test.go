package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/fastpath"
)

// Secrets of the API keys in testConfig; the config holds only their SHA-256.
const (
	adminSecret   = "test"        // sha256 9f86d0...
	limitedSecret = "limited-key" // bound to orchestrator on space dev only
	auditorSecret = "auditor-key" // auditor role on root: no run:create
)

// testKEK is the key encryption key of the redis key backend in tests: the base64 of 32 bytes.
const testKEK = "dGVzdC1rZXktZW5jcnlwdGlvbi1rZXktMzItYnl0ZXM=\n"

// writeSecretFile writes content to a new mode 0600 file and returns its path.
func writeSecretFile(t testing.TB, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// testConfig is a configuration with a small space tree. ISSUER is replaced with the server URL.
const testConfig = `
issuer: ISSUER
listen: 127.0.0.1:0
keys:
  backend: BACKEND
  dir: KEYDIR
  algorithm: ALG
  rotation: {period: PERIOD, prepublish: PREPUB, retain: RETAIN}
tokens:
  ttl: TOKENTTL
  default_audience: broker.test
runs:
  ttl: 3h
spaces:
  - id: root
  - id: prod
    parent: root
    inherit: true
  - id: team-a
    parent: prod
    inherit: true
  - id: dev
    parent: root
    subject_template: "space:{spaceId}:path:{spacePath}:stack:{callerId}:scope:{scope}"
stacks:
  - {id: vpc-prod, space: prod}
  - {id: app-a, space: team-a}
  - {id: app-dev, space: dev}
roles:
  - id: orchestrator
    actions: [run:create, run:read, run:update]
  - id: auditor
    actions: [audit:read, run:read]
api_keys:
  - id: ci
    secret_sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
    bindings: [{role: orchestrator, space: prod}]
  - id: dev-ci
    secret_sha256: SHA_LIMITED
    bindings: [{role: orchestrator, space: dev}]
  - id: security
    secret_sha256: SHA_AUDITOR
    bindings: [{role: auditor, space: root}]
`

// logBuffer collects everything the server logs, to assert no secret ever reaches it.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// testServer is a replica serving on a loopback port.
type testServer struct {
	URL  string
	Logs *logBuffer
	srv  *Server
	// stop shuts the replica down (once; the test's cleanup calls it too).
	stop func()
}

type serverOptions struct {
	alg string
	now func() time.Time
	// rotation, when set, replaces the default schedule (720h, 24h, 24h) and token TTL (1h).
	rotation *rotationOptions
	// issuer, when set, is the issuer of every replica of a test (they sit behind one name);
	// by default a replica's issuer is its own URL.
	issuer string
	// redisURL, when set, puts the shared state in that Redis.
	redisURL string
	// keyBackend is memory (default), file (keyDir) or redis (kekFile).
	keyBackend, keyDir string
	// keysYAML, when set, is inserted under keys: (e.g. a vault_transit line).
	keysYAML string
	// kekFile is the key encryption key file of the redis key backend; by default a file
	// holding testKEK, so that every replica of a test has the same key.
	kekFile string
	// extraYAML is appended to the configuration (e.g. a limits block).
	extraYAML string
	// baseYAML, when set, replaces testConfig (with the same placeholders).
	baseYAML string
	// catalogStore, when set, wraps the replica's catalog store (to lose its change notices).
	catalogStore func(catalog.Store) catalog.Store
	// upstream carries calls to clouds (to trust an emulator's TLS certificate).
	upstream http.RoundTripper
	// quiet discards the server's logs instead of keeping them for assertions (benchmarks).
	quiet bool
	// sweepInterval, when set, replaces DefaultSweepInterval.
	sweepInterval time.Duration
	// evictionRecheck, when set, replaces redisstore.EvictionRecheck.
	evictionRecheck time.Duration
	// keyRefresh, when set, replaces the key manager's refresh interval.
	keyRefresh time.Duration
	// wrapFast, when set, wraps the handler of the fast path (to count its answers).
	wrapFast func(fastpath.Handler) fastpath.Handler
}

type rotationOptions struct {
	period, prepublish, retain, tokenTTL string
}

func startServer(t testing.TB, opts serverOptions) *testServer {
	t.Helper()
	if opts.alg == "" {
		opts.alg = "RS256"
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	issuer := url
	if opts.issuer != "" {
		issuer = opts.issuer
	}
	if opts.keyBackend == "" {
		opts.keyBackend = "memory"
	}
	if opts.keyDir == "" {
		opts.keyDir = t.TempDir()
	}
	rot := rotationOptions{"720h", "24h", "24h", "1h"}
	if opts.rotation != nil {
		rot = *opts.rotation
	}
	base := testConfig
	if opts.baseYAML != "" {
		base = opts.baseYAML
	}
	if opts.keyBackend != "file" {
		base = strings.Replace(base, "  dir: KEYDIR\n", "", 1) // keys.dir is the file backend's only
	}
	yaml := strings.NewReplacer(
		"ISSUER", issuer, "ALG", opts.alg, "BACKEND", opts.keyBackend, "KEYDIR", opts.keyDir, "PERIOD", rot.period, "PREPUB", rot.prepublish,
		"RETAIN", rot.retain, "TOKENTTL", rot.tokenTTL,
		"SHA_LIMITED", sha256Hex(limitedSecret), "SHA_AUDITOR", sha256Hex(auditorSecret),
	).Replace(base) + opts.extraYAML
	if opts.redisURL != "" {
		yaml += "\nstore: {redis: {url: \"" + opts.redisURL + "\"}}\n"
	}
	if opts.keyBackend == "redis" {
		if opts.kekFile == "" {
			opts.kekFile = writeSecretFile(t, testKEK)
		}
		yaml = strings.Replace(yaml, "\nkeys:\n", "\nkeys:\n  redis: {encryption_key_file: \""+opts.kekFile+"\"}\n", 1)
	}
	if opts.keysYAML != "" {
		yaml = strings.Replace(yaml, "\nkeys:\n", "\nkeys:\n  "+opts.keysYAML+"\n", 1)
	}
	cfg, err := config.Parse("test.yaml", []byte(yaml))
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	logs := &logBuffer{}
	var logOut io.Writer = logs
	if opts.quiet {
		logOut = io.Discard
	}
	ctx, cancel := context.WithCancel(context.Background())
	serverOpts := Options{Logger: slog.New(slog.NewJSONHandler(logOut, nil)), Now: opts.now, UpstreamTransport: opts.upstream, SweepInterval: opts.sweepInterval, KeyRefresh: opts.keyRefresh,
		EvictionRecheck: opts.evictionRecheck}
	var srv *Server
	if opts.catalogStore == nil {
		srv, err = New(ctx, cfg, serverOpts)
	} else {
		srv, err = newWrappingCatalog(ctx, cfg, serverOpts, opts.catalogStore)
	}
	if err != nil {
		t.Fatalf("server: %v", err)
	}
	if opts.wrapFast != nil {
		srv.fast = opts.wrapFast(srv.fast)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	stop := sync.OnceFunc(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		_ = srv.Close()
	})
	t.Cleanup(stop)
	return &testServer{URL: url, Logs: logs, srv: srv, stop: stop}
}

// newWrappingCatalog is New with the catalog store wrapped by wrap.
func newWrappingCatalog(ctx context.Context, cfg *config.Config, opts Options, wrap func(catalog.Store) catalog.Store) (*Server, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	state, err := openBackends(ctx, cfg, opts)
	if err != nil {
		return nil, err
	}
	state.catalog = wrap(state.catalog)
	if opts.SweepInterval <= 0 {
		opts.SweepInterval = DefaultSweepInterval
	}
	s := &Server{cfg: cfg, log: opts.Logger, state: state, sweepEvery: opts.SweepInterval, evictionEvery: opts.EvictionRecheck}
	srv, err := s.build(ctx, opts)
	if err != nil {
		_ = state.close()
		return nil, err
	}
	return srv, nil
}

// apiRequest is one JSON request for testServer.call. Zero values are the common case: an
// empty bearer sends no Authorization header, a nil body sends no body, and a nil out
// discards the answer.
type apiRequest struct {
	method string            // HTTP method, such as "GET" or "POST"
	path   string            // path (and query) under the server's URL
	bearer string            // secret sent as "Authorization: Bearer", when not empty
	body   any               // nil for none, a string sent as is, or a value sent as its JSON encoding
	out    any               // when not nil, where the JSON answer is decoded
	header map[string]string // further request headers
}

// call sends r as a JSON request, checks the answer's Content-Type and (for an error) its
// envelope, decodes the JSON answer into r.out (if not nil) and returns the status.
func (ts *testServer) call(t testing.TB, r apiRequest) int {
	t.Helper()
	method, path := r.method, r.path
	var rd io.Reader
	switch b := r.body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, ts.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if r.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+r.bearer)
	}
	for k, v := range r.header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); len(raw) > 0 && !strings.HasPrefix(ct, "application/json") {
		t.Errorf("%s %s: Content-Type %q, body %s", method, path, ct, raw)
	}
	if resp.StatusCode >= 400 {
		assertEnvelope(t, resp.StatusCode, raw)
	}
	if r.out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, r.out); err != nil {
			t.Fatalf("%s %s: decode %s: %v", method, path, raw, err)
		}
	}
	return resp.StatusCode
}

// envelope is the contract's error body.
type envelope struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

var codeOf = map[int]string{
	400: "invalid_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
	409: "conflict", 412: "precondition_failed", 413: "too_large", 429: "rate_limited", 502: "upstream_error", 503: "unavailable",
}

// assertEnvelope checks that an error answer is exactly the contract's envelope with the right code.
func assertEnvelope(t testing.TB, status int, raw []byte) {
	t.Helper()
	var fields map[string]map[string]any
	if err := json.Unmarshal(raw, &fields); err != nil || len(fields) != 1 || len(fields["error"]) != 2 {
		t.Errorf("status %d: body is not the error envelope: %s", status, raw)
		return
	}
	var env envelope
	_ = json.Unmarshal(raw, &env)
	if want := codeOf[status]; env.Error.Code != want {
		t.Errorf("status %d: code %q, want %q", status, env.Error.Code, want)
	}
	if env.Error.Message == "" {
		t.Errorf("status %d: empty message", status)
	}
}

type runBody struct {
	ID        string    `json:"id"`
	Space     string    `json:"space"`
	Stack     string    `json:"stack"`
	RunType   string    `json:"runType"`
	Phase     string    `json:"phase"`
	Scope     string    `json:"scope"`
	CreatedAt time.Time `json:"createdAt"`
	ExpiresAt time.Time `json:"expiresAt"`
	CreatedBy string    `json:"createdBy"`
}

type runAnswer struct {
	Run      runBody `json:"run"`
	RunToken string  `json:"runToken"`
}

// createRun starts a run with the admin key and fails the test unless it gets 201.
func (ts *testServer) createRun(t testing.TB, stack, runType string) runAnswer {
	t.Helper()
	var ans runAnswer
	if code := ts.call(t, apiRequest{method: "POST", path: "/v1/runs", bearer: adminSecret, body: map[string]string{"stack": stack, "runType": runType}, out: &ans}); code != 201 {
		t.Fatalf("create run: status %d", code)
	}
	return ans
}

func (ts *testServer) setPhase(t *testing.T, id, phase string) int {
	t.Helper()
	return ts.call(t, apiRequest{method: "POST", path: "/v1/runs/" + id + "/phase", bearer: adminSecret, body: map[string]string{"phase": phase}})
}

type tokenAnswer struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expiresAt"`
}

func (ts *testServer) mint(t *testing.T, runToken, audience string) (tokenAnswer, int) {
	t.Helper()
	var ans tokenAnswer
	body := map[string]string{}
	if audience != "" {
		body["audience"] = audience
	}
	code := ts.call(t, apiRequest{method: "POST", path: "/v1/token", bearer: runToken, body: body, out: &ans})
	return ans, code
}
