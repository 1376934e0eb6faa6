package exchange

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// ObserveConfig configures Observe.
type ObserveConfig struct {
	// Provider is the name the exchanger serves; it labels the metrics and the log line.
	Provider string
	// Logger receives one Info line per exchange; nil discards. Its handler sees the caller's
	// context, so request-scoped attributes (the request id) reach the line.
	Logger *slog.Logger
	// Metrics counts and times exchanges; nil counts nothing.
	Metrics *Metrics
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Observed wraps an Exchanger with what every exchange gets alike: timing, counting by Outcome
// and one log line. It is the only place an exchange's error is classified.
type Observed struct {
	next    Exchanger
	cfg     ObserveConfig
	metrics providerMetrics
}

var _ Exchanger = (*Observed)(nil)

// Observe wraps next, which serves cfg.Provider.
func Observe(next Exchanger, cfg ObserveConfig) *Observed {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Observed{next: next, cfg: cfg, metrics: cfg.Metrics.forProvider(cfg.Provider)}
}

// Log line field names, the same for every provider.
const (
	FieldProvider       = "provider"
	FieldIntegration    = "integration"
	FieldStack          = "stack"
	FieldRun            = "run"
	FieldDuration       = "duration"
	FieldOutcome        = "outcome"
	FieldUpstreamStatus = "upstream_status"
	FieldUpstreamCode   = "upstream_code"
	FieldErr            = "err"
)

// Exchange implements Exchanger: it runs the wrapped exchange, then counts, times and logs it.
// The log line carries the provider, integration, stack, run, duration, outcome and, on failure,
// the upstream status and code and the error; the error is an UpstreamError's scrubbed detail
// or another error's text scrubbed of JWT-shaped strings, never a token or a credential.
func (o *Observed) Exchange(ctx context.Context, req Request) (Credentials, error) {
	start := o.cfg.Now()
	var tokens *timedTokens
	if req.Tokens != nil {
		tokens = &timedTokens{next: req.Tokens, now: o.cfg.Now}
		req.Tokens = tokens
	}
	creds, err := o.next.Exchange(ctx, req)
	elapsed := o.cfg.Now().Sub(start)
	if err == nil && !creds.ExpiresAt.IsZero() && !creds.ExpiresAt.After(start.Add(elapsed)) {
		// Whatever a provider checked, credentials already expired are never handed out. (Each
		// provider refuses credentials without an expiry itself, through Usable.)
		creds, err = Credentials{}, Upstream(o.cfg.Provider, UpstreamAnswer{Status: http.StatusOK,
			Message: "answered credentials that expired at " + creds.ExpiresAt.UTC().Format(time.RFC3339)})
	}
	outcome := Classify(err)
	if p, _ := ctx.Value(pendingKey{}).(*Pending); p != nil && outcome == Success {
		p.outcomes = o.metrics.outcomes // counted by the caller, once it hands them out or not
	} else if c := o.metrics.outcomes[outcome]; c != nil {
		c.Inc()
	}
	if o.metrics.duration != nil {
		if upstream, called := tokens.upstream(elapsed, err); called {
			o.metrics.duration.Observe(upstream.Seconds())
		}
	}
	attrs := []slog.Attr{
		slog.String(FieldProvider, o.cfg.Provider),
		slog.String(FieldIntegration, req.Integration.ID),
		slog.String(FieldStack, req.Run.Stack),
		slog.String(FieldRun, req.Run.ID),
		slog.Duration(FieldDuration, elapsed),
		slog.String(FieldOutcome, string(outcome)),
	}
	if err != nil {
		var up *UpstreamError
		if errors.As(err, &up) {
			attrs = append(attrs, slog.Int(FieldUpstreamStatus, up.Status))
			if up.Code != "" {
				attrs = append(attrs, slog.String(FieldUpstreamCode, up.Code))
			}
			attrs = append(attrs, slog.String(FieldErr, up.Detail()))
		} else {
			attrs = append(attrs, slog.String(FieldErr, Scrub(err.Error())))
		}
	}
	o.cfg.Logger.LogAttrs(ctx, slog.LevelInfo, "exchange", attrs...)
	return creds, err
}

// Unwrap returns the wrapped exchanger.
func (o *Observed) Unwrap() Exchanger { return o.next }

// timedTokens is an exchange's TokenSource timed: the time broker spends signing its own tokens
// (a Vault Transit round trip with keys held by Vault) is not the upstream call's.
type timedTokens struct {
	next TokenSource
	now  func() time.Time
	// spent is the nanoseconds spent in next; failed tells that next failed.
	spent  atomic.Int64
	failed atomic.Bool
}

// Token implements TokenSource.
func (t *timedTokens) Token(ctx context.Context, req TokenRequest) (string, error) {
	start := t.now()
	tok, err := t.next.Token(ctx, req)
	t.spent.Add(int64(t.now().Sub(start)))
	if err != nil {
		t.failed.Store(true)
	}
	return tok, err
}

// upstream is the part of an exchange that took elapsed and ended with err spent on upstream
// calls: all of it but the signing of broker's own tokens. called is false for an exchange that
// failed because a token could not be signed: it made no upstream call to time.
func (t *timedTokens) upstream(elapsed time.Duration, err error) (d time.Duration, called bool) {
	if t == nil {
		return elapsed, true
	}
	if err != nil && t.failed.Load() {
		return 0, false
	}
	return max(elapsed-time.Duration(t.spent.Load()), 0), true
}

// Pending holds the count of a successful exchange for its caller, which alone knows whether
// the credentials were handed out (WithPending).
type Pending struct {
	outcomes map[Outcome]prometheus.Counter
}

type pendingKey struct{}

// WithPending makes an exchange under ctx that succeeds leave its count to p.Settle.
func WithPending(ctx context.Context, p *Pending) context.Context {
	return context.WithValue(ctx, pendingKey{}, p)
}

// Settle counts the successful exchange p holds, if any, as o: Success when its credentials
// were handed out, Denied or Error when they were withheld. It counts at most once.
func (p *Pending) Settle(o Outcome) {
	if c := p.outcomes[o]; c != nil {
		c.Inc()
	}
	p.outcomes = nil
}
