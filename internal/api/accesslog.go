package api

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/brokerhq/broker/internal/logging"
)

// accessLog writes the one line Instrument logs per request, straight to the handler: nothing is
// built when the handler does not log at Info, the request id is added as the line is made
// rather than by copying the record (what LogRequestIDs does for other lines), and a handler
// that writes request lines itself (logging.RequestLogger) is given the fields alone.
type accessLog struct {
	h    slog.Handler
	fast logging.RequestLogger // h's own writer of request lines, nil when it has none
}

func newAccessLog(log *slog.Logger) accessLog {
	h := log.Handler()
	if w, ok := h.(requestIDHandler); ok {
		h = w.Handler
	}
	fast, _ := h.(logging.RequestLogger)
	return accessLog{h: h, fast: fast}
}

// request logs the method, path, route, status, duration, remote address and request id.
func (a accessLog) request(ctx context.Context, r *http.Request, route string, status int, elapsed time.Duration) {
	if !a.h.Enabled(ctx, slog.LevelInfo) {
		return
	}
	line := logging.Request{Time: time.Now(), Method: r.Method, Path: loggedPath(r), Route: route, Status: status,
		Duration: elapsed, Remote: r.RemoteAddr, RequestID: RequestID(ctx)}
	if a.fast != nil && a.fast.LogRequest(line) {
		return
	}
	_ = a.h.Handle(ctx, line.Record())
}

// routeMetrics are the children of the HTTP metrics for one route, resolved on its first request.
type routeMetrics struct {
	duration prometheus.Observer
	codes    sync.Map // status code (int) -> prometheus.Counter
}

// observe counts one request of route answered with code after elapsed.
func (m *Metrics) observe(route string, code int, elapsed time.Duration) {
	v, ok := m.routes.Load(route)
	if !ok {
		v, _ = m.routes.LoadOrStore(route, &routeMetrics{duration: m.duration.WithLabelValues(route)})
	}
	rm := v.(*routeMetrics)
	c, ok := rm.codes.Load(code)
	if !ok {
		c, _ = rm.codes.LoadOrStore(code, m.requests.WithLabelValues(route, strconv.Itoa(code)))
	}
	c.(prometheus.Counter).Inc()
	rm.duration.Observe(elapsed.Seconds())
}
