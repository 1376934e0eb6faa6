package api

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// nullWriter is a reusable http.ResponseWriter that keeps nothing but the status.
type nullWriter struct {
	header http.Header
	status int
}

func (w *nullWriter) Header() http.Header         { return w.header }
func (w *nullWriter) WriteHeader(s int)           { w.status = s }
func (w *nullWriter) Write(p []byte) (int, error) { return len(p), nil }

// BenchmarkPublicFastPath is the middleware cost of one GET of a public document: request id,
// metrics, no access log line; the document itself is fixed bytes.
func BenchmarkPublicFastPath(b *testing.B) {
	body := []byte(`{"keys":[]}`)
	doc := func(w http.ResponseWriter, r *http.Request) int {
		_, _ = w.Write(body)
		return http.StatusOK
	}
	h := Public(PublicConfig{Routes: map[string]PublicHandler{"/jwks": doc}, Next: http.NotFoundHandler(),
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
