package api

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/brokerhq/broker/internal/apierror"
	"github.com/brokerhq/broker/internal/fastpath"
	"github.com/brokerhq/broker/internal/issuer"
)

// PublicConfig configures Public.
type PublicConfig struct {
	// Routes are the public documents by their exact path: Serve answers through net/http,
	// Wire on the fast path (Answer); a document without Wire is answered through net/http only.
	Routes map[string]issuer.Document
	// Next serves every other request (the instrumented router).
	Next http.Handler
	// Logger receives the lines of answers other than 200 and 304, and of panics.
	Logger *slog.Logger
	// Metrics counts the public documents' requests as the router's do; nil counts nothing.
	Metrics *Metrics
	// CutPath, when set, cuts the secrets of a path that the lines of requests answered while
	// draining record (Router.CutPath); else broker's brk_ secrets are cut.
	CutPath func(string) string
}

// publicRoute is one public document with its metric children resolved once: route is the
// router's pattern for it ("GET <path>").
type publicRoute struct {
	serve           issuer.DocumentHandler
	wire            issuer.WireHandler
	route           string
	ok, notModified prometheus.Counter
	duration        prometheus.Observer
}

// Front serves the public documents ahead of the router: through net/http (ServeHTTP), and on
// connections the fast path reads itself (Answer, a fastpath.Handler).
type Front struct {
	routes map[string]*publicRoute
	next   http.Handler
	// draining answers every request but the documents' while the server stops (Draining).
	draining http.Handler
	log      *slog.Logger
	access   accessLog
	metrics  *Metrics
	// cut cuts the secrets of what the lines of its own answers record (PublicConfig.CutPath).
	cut func(string) string
}

// Public serves GET and HEAD of the public documents ahead of cfg.Next, on the cheapest path
// that keeps what every answer carries: an X-Request-Id (see requestID) and the requests and
// duration metrics under the route "GET <path>". These documents are public, cached by their
// readers and fetched often, so an answer of 200 or 304 writes no access log line; any other
// answer does, as Instrument's would, and so does a panic. Every other request goes to Next.
func Public(cfg PublicConfig) *Front {
	p := &Front{routes: map[string]*publicRoute{}, next: cfg.Next, metrics: cfg.Metrics, cut: cfg.CutPath,
		log: slog.New(LogRequestIDs(cfg.Logger.Handler())), access: newAccessLog(cfg.Logger),
		draining: Instrument(drainingHandler(cfg.CutPath), cfg.Logger, cfg.Metrics)}
	for path, d := range cfg.Routes {
		pr := &publicRoute{serve: d.Serve, wire: d.Wire, route: "GET " + path}
		if m := cfg.Metrics; m != nil {
			pr.ok = m.requests.WithLabelValues(pr.route, strconv.Itoa(http.StatusOK))
			pr.notModified = m.requests.WithLabelValues(pr.route, strconv.Itoa(http.StatusNotModified))
			pr.duration = m.duration.WithLabelValues(pr.route)
		}
		p.routes[path] = pr
	}
	return p
}

// count counts one answer of status to pr, which took elapsed.
func (p *Front) count(pr *publicRoute, status int, elapsed time.Duration) {
	if p.metrics == nil {
		return
	}
	switch status {
	case http.StatusOK:
		pr.ok.Inc()
	case http.StatusNotModified:
		pr.notModified.Inc()
	default:
		p.metrics.requests.WithLabelValues(pr.route, strconv.Itoa(status)).Inc()
	}
	pr.duration.Observe(elapsed.Seconds())
}

// Answer answers a request the fast path read (see fastpath.Handler) with what ServeHTTP would:
// the document's wire answer with its X-Request-Id (the caller's when well formed, as
// requestID), counted in the same metrics. A path without a wire form, and documents that
// cannot be served now, go to net/http. So does a request whose answer panics: ServeHTTP then
// answers it, with the contract's 500 if it panics again.
func (p *Front) Answer(dst []byte, req *fastpath.Request) (out []byte, ok bool) {
	given := len(dst)
	defer func() {
		if v := recover(); v != nil {
			p.log.Error("fast path: panic answering a public document; net/http answers it", "path", string(req.Path), "panic", v)
			out, ok = dst[:given], false
		}
	}()
	pr := p.routes[string(req.Path)]
	if pr == nil || pr.wire == nil {
		return dst, false
	}
	start := time.Now()
	wa, ok := pr.wire(string(req.IfNoneMatch))
	if !ok {
		return dst, false
	}
	dst = fastpath.AppendStatusLine(dst, wa.Status)
	dst = fastpath.AppendDate(dst, start)
	dst = append(dst, RequestIDHeader+": "...)
	if wellFormedRequestID(req.RequestID) {
		dst = append(dst, req.RequestID...)
	} else {
		dst = append(dst, newRequestID()...)
	}
	dst = append(dst, "\r\n"...)
	dst = append(dst, wa.Header...)
	dst = append(dst, "\r\n"...)
	if !req.Head {
		dst = append(dst, wa.Body...)
	}
	p.count(pr, wa.Status, time.Since(start))
	return dst, true
}

// answer is what ServeHTTP remembers of one request.
type answer struct {
	route  *publicRoute
	id     string
	status int
	start  time.Time
}

// ServeHTTP answers GET and HEAD of the public documents and passes every other request on.
func (p *Front) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	pr := p.routes[r.URL.Path]
	if pr == nil || (r.Method != http.MethodGet && r.Method != http.MethodHead) || r.ContentLength != 0 {
		p.next.ServeHTTP(w, r) // a body, which no document reads, gets the API's rules for bodies
		return
	}
	a := answer{route: pr, id: requestID(r), start: time.Now()}
	w.Header()[RequestIDHeader] = []string{a.id}
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			p.log.ErrorContext(p.requestContext(r, a.id), "handler panic", "method", r.Method, "path", r.URL.Path, "panic", v)
			apierror.Write(w, apierror.New(apierror.CodeInternal, "Internal error; the server log has the details."))
			a.status = http.StatusInternalServerError
		}
		p.done(r, &a)
	}()
	a.status = pr.serve(w, r)
}

// Draining is the handler of a server that is stopping and no longer takes requests, while a
// load balancer may still send it connections: it answers GET and HEAD of the public documents as
// ServeHTTP does, so relying parties keep fetching them until the server exits, and every other
// request 503 in the error envelope, logged and counted under the route "draining".
func (p *Front) Draining() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if pr := p.routes[r.URL.Path]; pr != nil && (r.Method == http.MethodGet || r.Method == http.MethodHead) && r.ContentLength == 0 {
			p.ServeHTTP(w, r)
			return
		}
		p.draining.ServeHTTP(w, r)
	})
}

// requestContext is r's context carrying its request id id as the lines of its answer record it.
func (p *Front) requestContext(r *http.Request, id string) context.Context {
	return withRequest(r.Context(), requestIDCtx{id: id, cut: p.cut, sent: len(r.Header[RequestIDHeader]) > 0})
}

// drainingHandler is stopping, cutting paths with cut when set.
func drainingHandler(cut func(string) string) http.Handler {
	if cut == nil {
		return http.HandlerFunc(stopping)
	}
	return cutHandler{Handler: http.HandlerFunc(stopping), cut: cut}
}

// stopping answers a request that came while the server stops: 503, to be retried elsewhere.
func stopping(w http.ResponseWriter, r *http.Request) {
	r.Pattern = drainingRoute
	apierror.Write(w, apierror.New(apierror.CodeUnavailable, "The server is shutting down; retry the request."))
}

// drainingRoute is the route under which requests refused by Draining are logged and counted.
const drainingRoute = "draining"

// done counts the answer a to r, and logs it unless it is a 200 or 304.
func (p *Front) done(r *http.Request, a *answer) {
	elapsed := time.Since(a.start)
	pr := a.route
	p.count(pr, a.status, elapsed)
	if a.status == http.StatusOK || a.status == http.StatusNotModified {
		return
	}
	p.access.request(p.requestContext(r, a.id), r, pr.route, a.status, elapsed)
}
