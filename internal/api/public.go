package api

import (
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/brokerhq/broker/internal/apierror"
)

// PublicHandler answers one GET or HEAD of a public document (discovery, JWKS) and returns the
// status it answered with.
type PublicHandler func(w http.ResponseWriter, r *http.Request) int

// PublicConfig configures Public.
type PublicConfig struct {
	// Routes are the public documents' handlers by their exact path.
	Routes map[string]PublicHandler
	// Next serves every other request (the instrumented router).
	Next http.Handler
	// Logger receives the lines of answers other than 200 and 304, and of panics.
	Logger *slog.Logger
	// Metrics counts the public documents' requests as the router's do; nil counts nothing.
	Metrics *Metrics
}

// publicRoute is one public document with its metric children resolved once: route is the
// router's pattern for it ("GET <path>").
type publicRoute struct {
	serve           PublicHandler
	route           string
	ok, notModified prometheus.Counter
	duration        prometheus.Observer
}

// public is the fast path of the public documents.
type public struct {
	routes  map[string]*publicRoute
	next    http.Handler
	log     *slog.Logger
	access  accessLog
	metrics *Metrics
}

// Public serves GET and HEAD of the public documents ahead of cfg.Next, on the cheapest path
// that keeps what every answer carries: an X-Request-Id (see requestID) and the requests and
// duration metrics under the route "GET <path>". These documents are public, cached by their
// readers and fetched often, so an answer of 200 or 304 writes no access log line; any other
// answer does, as Instrument's would, and so does a panic. Every other request goes to Next.
func Public(cfg PublicConfig) http.Handler {
	p := &public{routes: map[string]*publicRoute{}, next: cfg.Next, metrics: cfg.Metrics,
		log: slog.New(LogRequestIDs(cfg.Logger.Handler())), access: newAccessLog(cfg.Logger)}
	for path, h := range cfg.Routes {
		pr := &publicRoute{serve: h, route: "GET " + path}
		if m := cfg.Metrics; m != nil {
			pr.ok = m.requests.WithLabelValues(pr.route, strconv.Itoa(http.StatusOK))
			pr.notModified = m.requests.WithLabelValues(pr.route, strconv.Itoa(http.StatusNotModified))
			pr.duration = m.duration.WithLabelValues(pr.route)
		}
		p.routes[path] = pr
	}
	return p
}

// answer is what the fast path remembers of one request.
type answer struct {
	route  *publicRoute
	id     string
	status int
	start  time.Time
}

func (p *public) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	pr := p.routes[r.URL.Path]
	if pr == nil || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
		p.next.ServeHTTP(w, r)
		return
	}
	a := answer{route: pr, id: requestID(r), start: time.Now()}
	w.Header()[RequestIDHeader] = []string{a.id}
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			p.log.ErrorContext(WithRequestID(r.Context(), a.id), "handler panic", "method", r.Method, "path", r.URL.Path, "panic", v)
			apierror.Write(w, apierror.New(apierror.CodeInternal, "Internal error; the server log has the details."))
			a.status = http.StatusInternalServerError
		}
		p.done(r, &a)
	}()
	a.status = pr.serve(w, r)
}

// done counts the answer a to r, and logs it unless it is a 200 or 304.
func (p *public) done(r *http.Request, a *answer) {
	elapsed := time.Since(a.start)
	pr := a.route
	if p.metrics != nil {
		switch a.status {
		case http.StatusOK:
			pr.ok.Inc()
		case http.StatusNotModified:
			pr.notModified.Inc()
		default:
			p.metrics.requests.WithLabelValues(pr.route, strconv.Itoa(a.status)).Inc()
		}
		pr.duration.Observe(elapsed.Seconds())
	}
	if a.status == http.StatusOK || a.status == http.StatusNotModified {
		return
	}
	p.access.request(WithRequestID(r.Context(), a.id), r, pr.route, a.status, elapsed)
}
