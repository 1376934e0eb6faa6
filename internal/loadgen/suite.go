package loadgen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/brokerhq/broker/keys"
)

// Config configures a run of the load program.
type Config struct {
	// Binary is the broker executable started (`serve`) as the server under test.
	Binary string
	// Target, when its URL is set, is a running server measured instead of child servers; the
	// figures that need a server of the program's own making are then skipped.
	Target Broker
	// Duration is how long each figure is measured (and as long again for its reference).
	Duration time.Duration
	// Clients is how many closed-loop keep-alive clients measure a rate.
	Clients int
	// Soak, when set, is how long the memory figure's load lasts; the slope of the resident
	// memory over its second half is then judged.
	Soak time.Duration
	// Progress receives a line as each step starts; nil for none.
	Progress io.Writer
	// Only, when not empty, lists the figure ids to measure: the steps that fill none of them
	// are not run, and their figures are reported as skipped.
	Only []string
}

// Fixed parameters of the figures.
const (
	// FairnessClients is the closed-loop client count of the fairness figure and of the load
	// of the memory figure.
	FairnessClients = 64
	// OpenLoopWorkers is how many connections the open loop sends over.
	OpenLoopWorkers = 64
	// IdleConnections is how many idle keep-alive connections the memory figure holds open.
	IdleConnections = 1000
	// CatalogStacks and CatalogSpaces size the large catalog; BaseStacks the small one.
	CatalogStacks = 10_000
	CatalogSpaces = 1_000
	BaseStacks    = 10
	// rounds is how many times a measurement and its reference alternate: more rounds cancel
	// more of a shared machine's drift, at the cost of a little ramp-up and ramp-down each.
	rounds = 4
	// rssInterval and soakInterval are how often resident memory is sampled.
	rssInterval  = 100 * time.Millisecond
	soakInterval = time.Second
	// refillEvery is how often, during the memory figure, idle connections the server closed
	// (its idle timeout) are opened again.
	refillEvery = 30 * time.Second
	// mib is a mebibyte.
	mib = 1 << 20
)

// DefaultClients is the closed-loop client count of the rate figures: 16 per processor. Each
// client waits for its answer before it sends again, and a loopback round trip leaves a core
// idle unless enough requests are queued: with wrk against an ES256 server on 2 cores, 8
// clients left 14% of the CPU idle and 64 left 5%.
func DefaultClients() int { return 16 * runtime.GOMAXPROCS(0) }

// suite is one run in progress.
type suite struct {
	cfg     Config
	dir     string
	report  *Report
	signers map[string]*RawSigner
	// refs accumulates every raw signing segment of the run, per algorithm.
	refs map[string]*Result
	// saturated is the closed-loop token rate per store, for the open loop.
	saturated map[string]saturation
}

// saturation is a closed-loop token rate and the algorithm its server signed with.
type saturation struct {
	rate float64
	alg  string
}

// Run measures every figure and returns the report. Each figure that could not be measured is
// in the report as skipped or error; Run itself fails only when the run cannot start at all.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if cfg.Duration <= 0 {
		return nil, errors.New("loadgen: the duration must be positive")
	}
	if cfg.Clients <= 0 {
		cfg.Clients = DefaultClients()
	}
	dir, err := os.MkdirTemp("", "broker-bench-")
	if err != nil {
		return nil, fmt.Errorf("loadgen: temporary directory: %w", err)
	}
	defer os.RemoveAll(dir)
	s := &suite{
		cfg: cfg, dir: dir, signers: map[string]*RawSigner{},
		refs: map[string]*Result{keys.RS256: {}, keys.ES256: {}}, saturated: map[string]saturation{},
	}
	s.report = &Report{Started: time.Now(), Machine: machine(), Figures: s.plan()}
	if err := s.checkOnly(); err != nil {
		return nil, err
	}
	s.note(fmt.Sprintf("the load generator (this process), the server under test and redis-server or nginx when they take part share this machine's %d cores: every rate is a floor for a dedicated server", runtime.NumCPU()))
	s.note(fmt.Sprintf("each ratio is taken within this run, the measurement and its reference alternating %d times (%s each in all)", rounds, cfg.Duration))
	if _, cgo := thisBuild(); cgo {
		s.note(cgoNote)
	}
	if env := runtimeEnv(os.Getenv); env != "" {
		s.note("GO RUNTIME SET BY THE ENVIRONMENT: " + env + "; every server of the run inherits it (GOGC set also turns off the servers' heap floor), so its memory and rates are not those of a server started without it")
	}
	for _, alg := range []string{keys.RS256, keys.ES256} {
		signer, err := NewRawSigner(ctx, alg)
		if err != nil {
			return nil, err
		}
		s.signers[alg] = signer
	}
	if cfg.Target.URL != "" {
		s.runTarget(ctx, placeOf(cfg.Target.URL))
	} else {
		s.runChildren(ctx)
	}
	s.finishReferences(ctx)
	for i := range s.report.Figures {
		f := &s.report.Figures[i]
		if f.Status == "" && ctx.Err() != nil {
			f.Fail(fmt.Errorf("not measured: %w", ctx.Err()))
		}
		f.Judge()
	}
	s.report.Machine.LoadAfter = loadAverage()
	if busy := busyNote(s.report.Machine); busy != "" {
		s.note(busy)
	}
	s.report.Duration = time.Since(s.report.Started).Round(time.Second).String()
	return s.report, nil
}

// runChildren measures every figure on servers the program starts.
func (s *suite) runChildren(ctx context.Context) {
	s.note("ES256 on Redis is reported without a bar: the ES256 bar is the in-process store's, since on Redis the store's round trip and redis-server's own CPU on the same cores outweigh a P-256 signature")
	s.block(ctx, s.memoryRS256, "token_rs256_memory", "jwks_vs_nginx", "discovery_vs_nginx", "fairness_64_memory", "open_loop_memory")
	s.block(ctx, s.memoryES256, "token_es256_memory")
	s.block(ctx, s.redisFigures, "token_rs256_redis", "token_es256_redis", "open_loop_redis")
	s.block(ctx, s.memoryFigures, "rss_peak", "rss_soak_slope")
	s.block(ctx, s.catalogFigure(keys.RS256, "catalog_10k_vs_10"), "catalog_10k_vs_10")
	s.block(ctx, s.catalogFigure(keys.ES256, "catalog_10k_vs_10_es256"), "catalog_10k_vs_10_es256")
}

// block runs one step; when it fails, the figures it was to fill and did not are marked with
// its error.
func (s *suite) block(ctx context.Context, step func(context.Context) error, ids ...string) {
	if ctx.Err() != nil {
		return
	}
	if !s.selected(ids) {
		for _, id := range ids {
			s.fig(id).Skip("not selected (--only)")
		}
		return
	}
	err := step(ctx)
	if err == nil {
		return
	}
	for _, id := range ids {
		if f := s.fig(id); f.Status == "" {
			f.Fail(err)
		}
	}
}

// ErrUnknownFigure is the error of a Config.Only id that names no figure of the plan.
var ErrUnknownFigure = errors.New("loadgen: no figure")

// checkOnly refuses a Config.Only id that is not a figure of the plan.
func (s *suite) checkOnly() error {
	for _, id := range s.cfg.Only {
		if !slices.ContainsFunc(s.report.Figures, func(f Figure) bool { return f.ID == id }) {
			ids := make([]string, len(s.report.Figures))
			for i, f := range s.report.Figures {
				ids[i] = f.ID
			}
			return fmt.Errorf("%w %q; the figures are %s", ErrUnknownFigure, id, strings.Join(ids, ", "))
		}
	}
	return nil
}

// selected reports whether a step filling ids is to run: always without Config.Only, else when
// it fills one of the figures listed.
func (s *suite) selected(ids []string) bool {
	if len(s.cfg.Only) == 0 {
		return true
	}
	for _, id := range ids {
		if slices.Contains(s.cfg.Only, id) {
			return true
		}
	}
	return false
}

// fig returns the planned figure id; it panics on an id the plan lacks (a programming error).
func (s *suite) fig(id string) *Figure {
	for i := range s.report.Figures {
		if s.report.Figures[i].ID == id {
			return &s.report.Figures[i]
		}
	}
	panic("loadgen: no planned figure " + id)
}

// note adds a caveat to the report.
func (s *suite) note(n string) { s.report.Notes = append(s.report.Notes, n) }

// progress reports the start of a step.
func (s *suite) progress(format string, args ...any) {
	if s.cfg.Progress != nil {
		fmt.Fprintf(s.cfg.Progress, "bench: "+format+"\n", args...)
	}
}

// serverDir returns a fresh directory for one child.
func (s *suite) serverDir(name string) string {
	return filepath.Join(s.dir, name)
}

// startServer starts the child server cfg describes, named name, with the run's broker binary
// in a directory of its own: it sets cfg.Binary and cfg.Dir.
func (s *suite) startServer(ctx context.Context, name string, cfg ServerConfig) (*Server, error) {
	s.progress("starting %s (broker serve, %s, %s store, %d stack(s))", name, cfg.Alg, storeName(cfg.RedisURL), cfg.Stacks)
	cfg.Binary, cfg.Dir = s.cfg.Binary, s.serverDir(name)
	return StartServer(ctx, cfg)
}

func storeName(redisURL string) string {
	if redisURL == "" {
		return "memory"
	}
	return "redis"
}

// machine describes this machine.
func machine() Machine {
	build, _ := thisBuild()
	return Machine{Build: build,
		CPU: cpuModel(), Cores: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0),
		OS: runtime.GOOS + "/" + runtime.GOARCH, Go: runtime.Version(), LoadBefore: loadAverage(),
	}
}

// cpuModel is the first "model name" of /proc/cpuinfo, or "unknown".
func cpuModel() string {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	for line := range strings.Lines(string(data)) {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// busyNote warns, when the load average exceeded the cores before or after the run, that
// other processes took CPU from the run: under contention each process gets CPU by its number
// of runnable threads, so a rate measured across two processes (client and server) gains on an
// in-process reference, and latencies include the neighbours' time slices.
func busyNote(m Machine) string {
	before, _ := strconv.ParseFloat(m.LoadBefore, 64)
	after, _ := strconv.ParseFloat(m.LoadAfter, 64)
	if max(before, after) <= float64(m.Cores) {
		return ""
	}
	return fmt.Sprintf("BUSY MACHINE: load average %s before and %s after on %d cores; other processes took CPU from this run, so rates across processes gain on the in-process references and latencies include their time slices: read CPU RATIO, and measure again on a quiet machine",
		m.LoadBefore, m.LoadAfter, m.Cores)
}

// loadAverage is the one-minute load average of /proc/loadavg, or "unknown".
func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	if f := strings.Fields(string(data)); len(f) > 0 {
		return f[0]
	}
	return "unknown"
}

// runtimeEnv lists the Go runtime variables getenv sets ("GOGC=400 GOMEMLIMIT=40MiB"), "" for
// none.
func runtimeEnv(getenv func(string) string) string {
	var set []string
	for _, k := range []string{"GOGC", "GOMEMLIMIT", "GODEBUG", "GOMAXPROCS"} {
		if v := getenv(k); v != "" {
			set = append(set, k+"="+v)
		}
	}
	return strings.Join(set, " ")
}
