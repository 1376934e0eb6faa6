package api

import (
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/brokerhq/broker/internal/apierror"
	"github.com/brokerhq/broker/internal/runs"
)

// Metrics are the HTTP and token metrics broker exports. No label holds a run id, a stack id
// or any other value without bound: routes are the mux's patterns, scopes are read or write.
type Metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	// tokensRead and tokensWrite are broker_tokens_issued_total{scope}, resolved once.
	tokensRead, tokensWrite prometheus.Counter
	// routes holds each route's children of requests and duration (*routeMetrics), by route.
	routes sync.Map
}

// NewMetrics registers the HTTP and token metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	tokens := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "broker_tokens_issued_total",
		Help: "Broker ID tokens signed for runs, by the run's scope (read, write): those handed out by POST /v1/token and those sent upstream by exchanges.",
	}, []string{"scope"})
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "broker_http_requests_total", Help: "HTTP requests by route pattern and status code.",
		}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "broker_http_request_duration_seconds", Help: "HTTP request latency by route pattern.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}, []string{"route"}),
		tokensRead:  tokens.WithLabelValues(string(runs.Read)),
		tokensWrite: tokens.WithLabelValues(string(runs.Write)),
	}
	reg.MustRegister(m.requests, m.duration, tokens)
	return m
}

// tokenIssued counts one token signed for a run at scope; other scopes are not counted.
func (m *Metrics) tokenIssued(scope runs.Scope) {
	if m == nil {
		return
	}
	switch scope {
	case runs.Read:
		m.tokensRead.Inc()
	case runs.Write:
		m.tokensWrite.Inc()
	}
}

// instrumented is what Instrument allocates per request, in one allocation.
type instrumented struct {
	rec      statusRecorder
	idHeader [1]string // the X-Request-Id header's value
}

// statusRecorder remembers the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

// Unwrap is the ResponseWriter underneath, for http.ResponseController.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// Instrument wraps h with a request id, panic recovery, an access log line and metrics. When h
// cuts paths (Router.CutPath), every path the request's lines and events record is cut so. The id
// (requestID) is echoed as X-Request-Id and carried in the request's context, so every line
// logged with that context through a LogRequestIDs handler carries it. It logs the method, path,
// route and status only: never headers or bodies, which carry secrets.
func Instrument(h http.Handler, log *slog.Logger, m *Metrics) http.Handler {
	access := newAccessLog(log)
	log = slog.New(LogRequestIDs(log.Handler()))
	var cut func(string) string
	if c, ok := h.(pathCutter); ok {
		cut = c.CutPath
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := requestID(r)
		st := &instrumented{rec: statusRecorder{ResponseWriter: w}, idHeader: [1]string{id}}
		w.Header()[RequestIDHeader] = st.idHeader[:] // Header.Set, without its own allocation
		// The id is cut (when sent and a secret) only when a line records it, not on every request.
		r = r.WithContext(withRequest(r.Context(), requestIDCtx{id: id, start: start, cut: cut, sent: len(r.Header[RequestIDHeader]) > 0}))
		rec := &st.rec
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				log.ErrorContext(r.Context(), "handler panic", "method", r.Method, "path", loggedPath(r), "panic", p)
				if rec.status == 0 {
					apierror.Write(rec, apierror.New(apierror.CodeInternal, "Internal error; the server log has the details."))
				}
			}
			route := r.Pattern
			if route == "" {
				route = "unmatched"
			}
			elapsed := time.Since(start)
			if m != nil {
				m.observe(route, rec.status, elapsed)
			}
			access.request(r.Context(), r, route, rec.status, elapsed)
		}()
		h.ServeHTTP(rec, r)
	})
}
