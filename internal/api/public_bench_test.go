package api

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/brokerhq/broker/internal/fastpath"
	"github.com/brokerhq/broker/internal/issuer"
)

// nullWriter is a reusable http.ResponseWriter that keeps nothing but the status.
type nullWriter struct {
	header http.Header
	status int
}

func (w *nullWriter) Header() http.Header         { return w.header }
func (w *nullWriter) WriteHeader(s int)           { w.status = s }
func (w *nullWriter) Write(p []byte) (int, error) { return len(p), nil }

// BenchmarkPublicServeHTTP is the middleware cost of one GET of a public document through
// net/http's handler interface: request id, metrics, no access log line; the document itself
// is fixed bytes.
func BenchmarkPublicServeHTTP(b *testing.B) {
	body := []byte(`{"keys":[]}`)
	doc := func(w http.ResponseWriter, r *http.Request) int {
		_, _ = w.Write(body)
		return http.StatusOK
	}
	h := Public(PublicConfig{Routes: map[string]issuer.Document{"/jwks": {Serve: doc}}, Next: http.NotFoundHandler(),
		Logger: slog.New(slog.DiscardHandler), Metrics: NewMetrics(prometheus.NewRegistry())})
	req := httptest.NewRequest("GET", "/jwks", nil)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		w := &nullWriter{header: http.Header{}}
		for pb.Next() {
			clear(w.header)
			w.status = 0
			h.ServeHTTP(w, req)
			if w.status != 0 && w.status != http.StatusOK {
				b.Errorf("status %d", w.status)
				return
			}
		}
	})
}

// BenchmarkPublicAnswer is the same GET answered in wire form for the fast path: status line,
// Date, a fresh request id, the document's headers and body, the metrics.
func BenchmarkPublicAnswer(b *testing.B) {
	body := []byte(`{"keys":[]}`)
	wire := func(string) (issuer.WireAnswer, bool) {
		return issuer.WireAnswer{Status: http.StatusOK, Header: []byte("Content-Length: 11\r\n"), Body: body}, true
	}
	h := Public(PublicConfig{Routes: map[string]issuer.Document{"/jwks": {Wire: wire}},
		Next: http.NotFoundHandler(), Logger: slog.New(slog.DiscardHandler), Metrics: NewMetrics(prometheus.NewRegistry())})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		req := &fastpath.Request{Path: []byte("/jwks")}
		buf := make([]byte, 0, 512)
		for pb.Next() {
			out, ok := h.Answer(buf[:0], req)
			if !ok || len(out) < len(body) {
				b.Errorf("answer %v %q", ok, out)
				return
			}
		}
	})
}
