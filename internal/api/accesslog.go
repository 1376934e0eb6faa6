package api

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// accessLog writes the one line Instrument logs per request, straight to the handler: nothing is
// built when the handler does not log at Info, and the request id is added as the line is made
// rather than by copying the record (what LogRequestIDs does for other lines).
type accessLog struct{ h slog.Handler }

func newAccessLog(log *slog.Logger) accessLog {
	h := log.Handler()
	if w, ok := h.(requestIDHandler); ok {
		h = w.Handler
	}
	return accessLog{h}
}

// request logs the method, path, route, status, duration, remote address and request id.
func (a accessLog) request(ctx context.Context, r *http.Request, route string, status int, elapsed time.Duration) {
	if !a.h.Enabled(ctx, slog.LevelInfo) {
		return
	}
	rec := slog.NewRecord(time.Now(), slog.LevelInfo, "request", 0)
	rec.AddAttrs(slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.String("route", route),
		slog.Int("status", status), slog.Duration("duration", elapsed), slog.String("remote", r.RemoteAddr))
	if id := RequestID(ctx); id != "" {
		rec.AddAttrs(slog.String(FieldRequestID, id))
	}
	_ = a.h.Handle(ctx, rec)
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
