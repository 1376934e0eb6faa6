package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/brokerhq/broker/internal/api"
	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/auditsink"
	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/exchange"
	"github.com/brokerhq/broker/internal/fastpath"
	"github.com/brokerhq/broker/internal/headerror"
	"github.com/brokerhq/broker/internal/issuer"
	"github.com/brokerhq/broker/internal/redact"
	"github.com/brokerhq/broker/internal/runs"
	"github.com/brokerhq/broker/keys"
)

// Options are what the configuration file does not say.
type Options struct {
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// UpstreamTransport, when set, carries the calls to clouds and Vault instead of the default
	// transport (tests use it to trust an emulator's certificate).
	UpstreamTransport http.RoundTripper
	// SweepInterval is how often expired runs are dropped from the in-memory run store; zero
	// means DefaultSweepInterval.
	SweepInterval time.Duration
	// EvictionRecheck is how often a replica on Redis checks Redis's eviction policy again;
	// zero means redisstore.EvictionRecheck.
	EvictionRecheck time.Duration
	// KeyRefresh is how often the key manager re-reads the key set; zero means
	// keys.RefreshInterval of keys.rotation.prepublish, which every writer of the key set counts
	// on (tests set a longer one to stand for a replica that picks changes up late).
	KeyRefresh time.Duration
}

// Server is one broker replica.
type Server struct {
	cfg     *config.Config
	log     *slog.Logger
	keys    *keys.Manager
	state   *backends
	handler http.Handler
	// draining is the handler while the replica drains (api.Front.Draining).
	draining http.Handler
	// reloading is held by a Reload under way and by a drain that ends reloads; reloadsEnded
	// (under it) refuses every Reload once the sinks' final flush is near.
	reloading    sync.Mutex
	reloadsEnded bool
	// fast answers the public documents on the fast path of a plain-HTTP listener.
	fast fastpath.Handler
	// keyRefresh is how often the key manager re-reads the key set and applies the schedule:
	// keys.RefreshInterval of the policy, which every writer of the key set counts on, unless
	// Options.KeyRefresh says otherwise.
	keyRefresh time.Duration
	// anchor signs checkpoints into the audit chain.
	anchor *audit.Checkpointer
	// catalog holds the objects in force and applies the API's changes.
	catalog *catalog.Manager
	events  *auditRecorder
	// sinks forwards the audit chain to audit.sinks.
	sinks *auditsink.Forwarder
	// finished watches the runs this replica finished, when the store can go back (Redis).
	finished *runs.FinishWatch
	// sweepEvery is how often expired runs are dropped from an in-memory run store.
	sweepEvery time.Duration
	// evictionEvery is how often the eviction policy of store.redis is checked again; zero
	// means redisstore.EvictionRecheck.
	evictionEvery time.Duration
	// tlsCert is the serving certificate of tls.cert_file and tls.key_file, re-read by Reload;
	// nil without tls.
	tlsCert *servingCert
}

// New builds a replica from a validated configuration. It loads (or, on first start, creates)
// the signing keys, so a returned Server can sign at once.
func New(ctx context.Context, cfg *config.Config, opts Options) (*Server, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	// Every line logged with a request's context carries its request id, and no line a secret.
	opts.Logger = slog.New(api.LogRequestIDs(redact.NewHandler(opts.Logger.Handler())))
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.SweepInterval <= 0 {
		opts.SweepInterval = DefaultSweepInterval
	}
	s := &Server{cfg: cfg, log: opts.Logger, sweepEvery: opts.SweepInterval, evictionEvery: opts.EvictionRecheck}
	if cfg.TLS != nil {
		cert, err := newServingCert(cfg.TLS.CertFile, cfg.TLS.KeyFile, opts.Now)
		if err != nil {
			return nil, fmt.Errorf("tls: %w", err)
		}
		s.tlsCert = cert
	}

	state, err := openBackends(ctx, cfg, opts)
	if err != nil {
		return nil, err
	}
	s.state = state
	if state.redis != nil {
		s.finished = runs.NewFinishWatch(state.runs, s.log, opts.Now)
	}
	srv, err := s.build(ctx, opts)
	if err != nil {
		_ = state.close()
		return nil, err
	}
	return srv, nil
}

// build assembles the replica on its opened backends.
func (s *Server) build(ctx context.Context, opts Options) (*Server, error) {
	cfg := s.cfg
	var err error
	if s.anchor, err = s.newCheckpointer(opts.Now); err != nil {
		return nil, err
	}
	if s.sinks, err = newAuditSinks(cfg, s.state.audit, s.log); err != nil {
		return nil, err
	}
	// The recorder files events by the catalog in force, which exists once the manager does;
	// until then (the start's own record) events name the catalog they are filed by.
	events := &auditRecorder{store: s.sinks.Watch(s.anchor), now: opts.Now, log: s.log, runs: s.state.runs, keySet: s.state.auditKeySet}
	events.chain, _ = s.state.audit.(audit.Reader)
	s.events = events
	s.catalog, err = catalog.NewManager(ctx, catalog.ManagerConfig{
		Store: s.state.catalog, File: catalog.FileObjects(cfg), Logger: s.log, Now: opts.Now, RunTTL: cfg.Runs.TTL,
		TokenTTL: cfg.Tokens.TTL, StartLog: startRecord{s: s}, WriteBackLog: writeBackRecord{s: s}, Issuer: cfg.Issuer,
	})
	if err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}
	live := s.catalog.Live()
	events.catalog = live
	recorded, known := events.loadKeySet(ctx)
	s.keys, err = keys.NewManager(keys.Config{
		Backend:   s.state.keys,
		Policy:    KeyPolicy(cfg),
		Now:       opts.Now,
		Logger:    opts.Logger,
		OnChange:  events.recordKeys,
		OnLoad:    events.recordLoadedKeys,
		TokenTTL:  cfg.Tokens.TTL,
		WriteBack: s.state.keysInRedis,
		Recorded:  recorded,
	})
	if err != nil {
		return nil, fmt.Errorf("key manager: %w", err)
	}
	if _, err := s.keys.Refresh(ctx); err != nil {
		return nil, fmt.Errorf("load signing keys: %w", err)
	}
	if known && recorded == nil {
		// No record yet (first start, or a store from before it was kept): the trail starts
		// accounting for the set in force now. With a record, the events write it.
		events.saveInForce(ctx, s.keys)
	}
	maxAge := jwksMaxAge(cfg.Keys.Rotation.Prepublish)
	s.keyRefresh = keys.RefreshInterval(cfg.Keys.Rotation.Prepublish)
	if opts.KeyRefresh > 0 {
		s.keyRefresh = opts.KeyRefresh
	}

	iss, err := issuer.New(issuer.Config{
		Issuer: cfg.Issuer, Keys: s.keys, TTL: cfg.Tokens.TTL,
		DefaultAudience: cfg.Tokens.DefaultAudience, Spaces: live, Now: opts.Now,
		AlgorithmFor: func(aud string) string { return live.Load().AlgorithmFor(aud) },
	})
	if err != nil {
		return nil, err
	}
	if s.state.redis != nil {
		// A token's round trips to Redis poll for their replies while no signature needs
		// the cores.
		s.state.redis.PollWhenSpare(iss.Idle)
	}
	pub, err := issuer.NewPublisher(issuer.PublisherConfig{Issuer: cfg.Issuer, Keys: s.keys, MaxAge: maxAge})
	if err != nil {
		return nil, err
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics := api.NewMetrics(reg)
	s.registerMetrics(reg, opts.Now)
	reg.MustRegister(s.sinks.Collector())
	rt := api.NewRouter()
	// An API key's secret pasted where an id goes is cut from what the server records (see
	// CutSecrets).
	rt.CutSecrets(func(s string) bool { return live.Load().Access().Known(s) })
	pub.Mount(rt) // the router answers other methods 405 with Allow
	// Three refreshes missed in a row: a slow store is not enough, an unreachable one is.
	api.NewHealth(api.HealthConfig{Store: s.state.runs, KeyService: s.state.keyService, Keys: s.keys, Logger: s.log, KeysStaleAfter: 3*s.keyRefresh + 10*time.Second, Now: opts.Now}).Mount(rt)
	rt.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	proxies, err := cfg.HTTP.TrustedProxyPrefixes()
	if err != nil {
		return nil, err
	}
	guard := &api.Guard{Limiter: s.state.limiter, Logger: s.log, TrustedProxies: proxies, StoreTimeout: cfg.Limits.StoreTimeout}
	limited := &api.RefusalLimit{Recorder: events, PerActor: refusalsPerActor, Window: time.Minute, Now: opts.Now, Logger: s.log}
	control := api.NewControl(api.ControlConfig{
		Store: s.state.runs, Catalog: live, Current: s.catalog.Current, Finished: s.finished, RunTTL: cfg.Runs.TTL, Now: opts.Now, Logger: s.log,
		Guard: guard, Events: limited, Audit: s.state.audit,
	})
	control.Mount(rt)
	api.NewAdmin(api.AdminConfig{Catalog: s.catalog, Auth: control, Events: limited, Logger: s.log}).Mount(rt)
	api.NewWorker(api.WorkerConfig{
		Store: s.state.runs, Issuer: iss, Now: opts.Now, Logger: s.log, Guard: guard, Events: limited,
		Catalog: live, Current: s.catalog.Current, Exchangers: s.newExchangers(opts.UpstreamTransport, exchange.NewMetrics(reg)),
		Metrics: metrics, AnswerWithin: cfg.HTTP.WriteTimeout,
		// On Redis a token's audit event is a round trip, made while the token is signed.
		RecordWhileSigning: s.state.redis != nil,
	}).Mount(rt)
	front := api.Public(api.PublicConfig{
		Routes: pub.Routes(), Next: api.Instrument(rt, s.log, metrics), Logger: s.log, Metrics: metrics, CutPath: rt.CutPath,
	})
	s.handler, s.fast, s.draining = front, front, front.Draining()
	return s, nil
}

// refusalsPerActor is how many refusals of one API key or run a replica records per minute
// (see api.RefusalLimit).
const refusalsPerActor = 60

// jwksMaxAge is the Cache-Control max-age of discovery and JWKS: a quarter of the prepublish
// period in whole seconds, at most ten minutes, so a cached JWKS always already holds the next
// key before it signs. Under a second (prepublish under 4s) it is zero: the documents are not
// to be cached.
func jwksMaxAge(prepublish time.Duration) time.Duration {
	return min(prepublish/4, 10*time.Minute).Truncate(time.Second)
}

// Handler is the replica's whole HTTP surface.
func (s *Server) Handler() http.Handler { return s.handler }

// Keys is the replica's key manager.
func (s *Server) Keys() *keys.Manager { return s.keys }

// Serve answers on ln until ctx ends, then drains and returns. Without TLS, the public
// documents, the token requests that arrive whole (head and body together) and the health
// probes are answered on the fast path (package fastpath), the token requests and the probes by
// the same handler as net/http's, and every other connection goes to net/http.
//
// The drain lets in-flight requests finish (up to http.shutdown_timeout) and the audit sinks
// take the rest of the chain, and keeps the port open until its end: a load balancer that still
// routes to a stopping replica (the chart's public Service keeps a terminating pod's endpoint) gets
// the public documents, each answer the last of its connection, and every other request 503 in
// the error envelope, instead of a refused connection.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	var began atomic.Bool
	var open atomic.Int64
	var handlers atomic.Int64
	full := s.handler
	// Every request but the public documents' goes to service, from net/http or from the fast
	// path: the drain answers them, and waits for them.
	service := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		handlers.Add(1)
		defer handlers.Add(-1)
		if began.Load() {
			// The drain's answer ends its connection on either path, whether or not net/http's
			// keep-alives are off yet.
			w.Header().Set("Connection", "close")
			s.draining.ServeHTTP(w, r)
			return
		}
		full.ServeHTTP(w, r)
	})
	var fast *fastpath.Listener
	if s.tlsCert != nil {
		ln = tls.NewListener(ln, s.tlsCert.tlsConfig())
	} else {
		h := s.cfg.HTTP
		fast = fastpath.Listen(ln, fastpath.Config{
			Handler: s.fast, Service: service, Posts: []string{api.TokenPath}, Gets: api.HealthPaths,
			ReadHeaderTimeout: h.ReadHeaderTimeout, ReadTimeout: h.ReadTimeout,
			WriteTimeout: h.WriteTimeout, IdleTimeout: h.IdleTimeout, Logger: s.log,
		})
		ln = fast
	}
	// net/http's own answers to heads it refuses go out in the error envelope.
	ln = headerror.Listen(ln, headerror.Config{HandshakeTimeout: handshakeTimeout(s.cfg.HTTP), Logger: s.log})
	shared := share(ln, s.log)
	defer shared.Close()
	// The sinks outlive the background tasks: they take the events those record last.
	stopSinks := s.sinks.Start(context.Background())
	defer stopSinks()
	bg, cancelBG := context.WithCancel(context.Background())
	var tasks sync.WaitGroup
	task := func(run func()) { tasks.Add(1); go func() { defer tasks.Done(); run() }() }
	stopBG := sync.OnceFunc(func() { cancelBG(); tasks.Wait() })
	defer stopBG()
	task(func() { s.keys.Run(bg, s.keyRefresh) })
	task(func() { s.events.retryKeyEvents(bg, s.keyRefresh) })
	task(func() { s.anchor.Run(bg) })
	task(func() { s.catalog.Run(bg, catalog.DefaultPoll) })
	if s.finished != nil {
		task(func() { s.finished.Run(bg, finishCheck) })
	}
	s.startSweeping(bg)
	s.startEvictionWatch(bg)

	srv := s.httpServer(service)
	srv.ConnState = func(_ net.Conn, st http.ConnState) {
		switch st {
		case http.StateNew:
			open.Add(1)
		case http.StateClosed, http.StateHijacked:
			open.Add(-1)
		}
	}
	view := shared.view()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(view) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	// The fast path's answers are each their connection's last from before the first 503, so
	// that a document answered meanwhile does not leave its connection idle for Drain to close
	// under the client.
	if fast != nil {
		fast.Drain()
	}
	began.Store(true)
	_ = view.Close()
	// From now on srv takes no connection, answers what comes on those it has as the drain
	// does, each answer closing its connection, and drain waits for them to close.
	srv.SetKeepAlivesEnabled(false)
	if err := s.drain(stopping{srv: srv, open: &open, handlers: &handlers, stopTasks: stopBG, shared: shared, fast: fast}); err != nil {
		return err
	}
	// srv's view closed when the drain began: its Serve returned net.ErrClosed.
	err := <-errc
	if err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
		return err
	}
	return nil
}

// handshakeTimeout bounds a TLS handshake as http.Server bounds its own: the shortest of the
// non-zero read-header, read and write timeouts, zero when all are zero.
func handshakeTimeout(h config.HTTP) time.Duration {
	var d time.Duration
	for _, t := range []time.Duration{h.ReadHeaderTimeout, h.ReadTimeout, h.WriteTimeout} {
		if t > 0 && (d == 0 || t < d) {
			d = t
		}
	}
	return d
}

// httpServer is an http.Server of handler with the configured timeouts and TLS.
func (s *Server) httpServer(handler http.Handler) *http.Server {
	h := s.cfg.HTTP
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: h.ReadHeaderTimeout,
		ReadTimeout:       h.ReadTimeout,
		WriteTimeout:      h.WriteTimeout,
		IdleTimeout:       h.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	if s.tlsCert != nil {
		srv.TLSConfig = s.tlsCert.tlsConfig()
	}
	return srv
}

// stopping is what a drain stops: the replica's server srv, whose connections open counts, on
// its view of shared, and the fast path when there is one.
type stopping struct {
	srv  *http.Server
	open *atomic.Int64
	// handlers counts srv's handlers running, which a cut connection does not stop.
	handlers *atomic.Int64
	// stopTasks ends the replica's background tasks and waits for them.
	stopTasks func()
	shared    *sharedListener
	fast      *fastpath.Listener
}

// lastAnswers bounds the end of a drain, after the port closed: the answers of the drain's own
// connections in flight then (public documents and refusals) get this long to be written; so
// do the handlers of the connections cut at http.shutdown_timeout.
const lastAnswers = config.StopLastAnswers

// sinkFlushFloor is the least time the sinks' final flush gets, however much of
// http.shutdown_timeout the in-flight requests took, up to that timeout.
const sinkFlushFloor = config.StopFlushFloor

// stopRevocationsLeft is logged when a stop ends with revocations still under way.
const stopRevocationsLeft = "shutting down: revocations of credentials not handed out did not end in time; " +
	"those credentials stay valid until they expire"

// latest is ctx's deadline, or now plus floor when that is later.
func latest(ctx context.Context, floor time.Duration) time.Time {
	d, _ := ctx.Deadline()
	if f := time.Now().Add(floor); f.After(d) {
		return f
	}
	return d
}

// drain stops srv as Serve describes, while a second server on shared (and the fast path, when
// there is one) answers what comes meanwhile, and closes the port at its end. A stop still ends
// well when a client hangs past http.shutdown_timeout: its connection is cut, and said so.
func (s *Server) drain(st stopping) error {
	srv, shared, fast := st.srv, st.shared, st.fast
	h := s.cfg.HTTP
	s.log.Info("shutting down: finishing in-flight requests", "timeout", h.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), h.ShutdownTimeout)
	defer cancel()
	draining := s.httpServer(s.draining)
	draining.SetKeepAlivesEnabled(false)
	defer draining.Close()
	go func() { _ = draining.Serve(shared.view()) }()
	for st.open.Load() > 0 && sctx.Err() == nil {
		time.Sleep(10 * time.Millisecond)
	}
	err := srv.Shutdown(sctx)
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("shutdown: %w", err)
	}
	// Once net/http's requests ended, the handlers left are the fast path's requests in flight.
	for err == nil && st.handlers.Load() > 0 {
		if sctx.Err() != nil {
			err = sctx.Err()
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err != nil {
		s.log.Warn("shutting down: http.shutdown_timeout passed with requests still in flight; closing their connections",
			"timeout", h.ShutdownTimeout.String())
		_ = srv.Close()
		if fast != nil {
			fast.CutBusy()
		}
		// A cut connection cancels its request's context, not its handler: wait for the
		// handlers to end (and record their events), within lastAnswers.
		for by := time.Now().Add(lastAnswers); st.handlers.Load() > 0 && time.Now().Before(by); {
			time.Sleep(10 * time.Millisecond)
		}
	}
	// No request records an event any more: the sinks get the rest of the chain, within what
	// is left of the timeout but at least sinkFlushFloor (with the memory store, what they
	// miss now is lost).
	st.stopTasks()
	s.reloading.Lock() // a Reload under way records its event first
	s.reloadsEnded = true
	s.reloading.Unlock()
	fctx, fcancel := context.WithDeadline(context.Background(), latest(sctx, min(h.ShutdownTimeout, sinkFlushFloor)))
	defer fcancel()
	// The process must not exit before the revocations: one cut short leaves credentials
	// nobody holds valid until they expire, which the operator must learn.
	if left := exchange.WaitRevocations(fctx); left > 0 {
		s.log.Warn(stopRevocationsLeft, "revocations", left)
	}
	api.WaitCorrections(fctx) // nor before the corrections of events refused
	s.sinks.Drain(fctx)
	_ = shared.Close()
	lctx, lcancel := context.WithTimeout(context.Background(), lastAnswers)
	defer lcancel()
	fastDone := make(chan error, 1)
	if fast != nil {
		go func() { fastDone <- fast.Shutdown(lctx) }()
	} else {
		fastDone <- nil
	}
	if err := errors.Join(draining.Shutdown(lctx), <-fastDone); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// Close releases the replica's connections to shared state. Call it after Serve returns.
func (s *Server) Close() error { return s.state.close() }

// finishCheck is how often a replica checks that the runs it finished stay finished.
const finishCheck = time.Second

// ListenAndServe listens on the configured address and serves until ctx ends.
func (s *Server) ListenAndServe(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.cfg.Listen, err)
	}
	s.log.Info("listening", "addr", ln.Addr().String(), "issuer", s.cfg.Issuer, "tls", s.cfg.TLS != nil)
	return s.Serve(ctx, ln)
}
