package auditsink

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/runs"
)

// Defaults of Config and Target.
const (
	// DefaultPoll is how often an idle worker looks for events appended by other replicas (its
	// own replica's appends wake it at once) and renews its lease.
	DefaultPoll = time.Second
	// DefaultTimeout bounds one delivery when Target.Timeout is zero.
	DefaultTimeout = 10 * time.Second
	// DefaultMaxBatch is Target.MaxBatch when zero.
	DefaultMaxBatch = 100
	// DefaultMaxBackoff is Target.MaxBackoff when zero.
	DefaultMaxBackoff = 30 * time.Second
)

// Chain is the store a Forwarder reads: the chain by position and its head.
type Chain interface {
	audit.Reader
	Head(ctx context.Context) (audit.Head, error)
}

// Target is one sink and how to deliver to it.
type Target struct {
	// Name identifies the sink: its cursor and lease in the store, its metric label and its
	// log lines. It must be bounded and hold no secret.
	Name string
	Sink Sink
	// MaxBatch is the most events one delivery carries (and the most held in memory).
	MaxBatch int
	// MaxBackoff caps the wait between attempts of a failing delivery.
	MaxBackoff time.Duration
	// Timeout bounds one delivery.
	Timeout time.Duration
}

// Config configures a Forwarder.
type Config struct {
	Chain   Chain
	Cursors audit.Cursors
	Targets []Target
	// Poll is DefaultPoll when zero.
	Poll time.Duration
	// Logger receives failed deliveries; slog.Default() when nil.
	Logger *slog.Logger
}

// Forwarder delivers the chain to every Target, one worker each (see the package doc).
type Forwarder struct {
	workers   []*worker
	log       *slog.Logger
	drain     chan struct{}
	drainOnce sync.Once
}

// New checks cfg and returns a Forwarder; it delivers nothing until Start.
func New(cfg Config) (*Forwarder, error) {
	if cfg.Chain == nil || cfg.Cursors == nil {
		return nil, errors.New("auditsink: a forwarder needs Chain and Cursors")
	}
	if cfg.Poll <= 0 {
		cfg.Poll = DefaultPoll
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	var id [12]byte
	if _, err := rand.Read(id[:]); err != nil {
		return nil, fmt.Errorf("auditsink: holder id: %w", err)
	}
	holder := hex.EncodeToString(id[:])
	f := &Forwarder{log: cfg.Logger, drain: make(chan struct{})}
	seen := map[string]bool{}
	for _, t := range cfg.Targets {
		if t.Name == "" || t.Sink == nil || seen[t.Name] {
			return nil, fmt.Errorf("auditsink: target %q: a target needs a unique Name and a Sink", t.Name)
		}
		seen[t.Name] = true
		if t.MaxBatch <= 0 {
			t.MaxBatch = DefaultMaxBatch
		}
		if t.MaxBackoff <= 0 {
			t.MaxBackoff = DefaultMaxBackoff
		}
		if t.Timeout <= 0 {
			t.Timeout = DefaultTimeout
		}
		f.workers = append(f.workers, &worker{
			Target: t, chain: cfg.Chain, cursors: cfg.Cursors, holder: holder, poll: cfg.Poll,
			leaseTTL: 3*cfg.Poll + 2*t.Timeout, log: cfg.Logger.With("sink", t.Name),
			wake: make(chan struct{}, 1), drain: f.drain, drained: make(chan struct{}),
		})
	}
	return f, nil
}

// Start runs the workers until the returned stop is called; stop waits for them to end (an
// interrupted delivery is repeated later from the cursor) and releases their leases.
func (f *Forwarder) Start(ctx context.Context) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, w := range f.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.run(ctx)
		}()
	}
	return sync.OnceFunc(func() {
		cancel()
		wg.Wait()
	})
}

// Drain lets every running worker deliver what the chain holds past its cursor, and returns
// when each has (or found it cannot: a failed delivery, another replica's lease) or when ctx
// ends. A server calls it once no request appends to the chain any more, before stop, so that
// a graceful stop delivers every event it recorded; what is left is delivered from the cursor
// at the next start.
func (f *Forwarder) Drain(ctx context.Context) {
	f.drainOnce.Do(func() { close(f.drain) })
	for _, w := range f.workers {
		select {
		case <-w.drained:
		case <-ctx.Done():
			return
		}
	}
}

// Notify wakes every worker: the chain grew by one event, which each counts as pending at once
// (a delivery in progress, or hung until its timeout, does not freeze the count). It never
// blocks.
func (f *Forwarder) Notify() {
	for _, w := range f.workers {
		w.pending.Add(1)
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
}

// Watch returns store with every successful Append followed by Notify.
func (f *Forwarder) Watch(store audit.Store) audit.Store {
	if len(f.workers) == 0 {
		return store
	}
	return watched{Store: store, f: f}
}

type watched struct {
	audit.Store
	f *Forwarder
}

func (w watched) Append(ctx context.Context, e audit.Event, spaces []string) (audit.Event, error) {
	out, err := w.Store.Append(ctx, e, spaces)
	if err == nil {
		w.f.Notify()
	}
	return out, err
}

// AppendChecked implements audit.CheckedStore when the watched store does; otherwise it appends
// nothing and fails with runs.ErrChanged, as a store that cannot check a run does.
func (w watched) AppendChecked(ctx context.Context, e audit.Event, spaces []string, v runs.Version) (audit.Event, error) {
	cs, ok := w.Store.(audit.CheckedStore)
	if !ok {
		return audit.Event{}, fmt.Errorf("%w: the audit store cannot check a run", runs.ErrChanged)
	}
	out, err := cs.AppendChecked(ctx, e, spaces, v)
	if err == nil {
		w.f.Notify()
	}
	return out, err
}

// Stats is a worker's state.
type Stats struct {
	Name string
	// Pending is how many events of the chain lie past the sink's cursor, as last seen.
	Pending int64
	// Held is how many events the worker holds in memory now; MaxHeld the most it ever held.
	Held, MaxHeld int64
	// MaxBatch is the bound of Held.
	MaxBatch int
	// Leader: this replica held the sink's lease at its last look.
	Leader bool
	// Rewinds counts the times this replica moved the sink's cursor back because the chain went
	// back below events the sink had received.
	Rewinds int64
}

// Stats returns every worker's state, in the order of the targets.
func (f *Forwarder) Stats() []Stats {
	out := make([]Stats, 0, len(f.workers))
	for _, w := range f.workers {
		out = append(out, Stats{
			Name: w.Name, Pending: w.pending.Load(), Held: w.held.Load(), MaxHeld: w.maxHeld.Load(), MaxBatch: w.MaxBatch,
			Leader: w.leader.Load(), Rewinds: w.rewinds.Load(),
		})
	}
	return out
}
