package issuer

import (
	"context"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/brokerhq/broker/keys"
)

// discardWriter is a reusable http.ResponseWriter that keeps only the status and the body
// length, so that the benchmarks measure the handler and not a recorder.
type discardWriter struct {
	header http.Header
	status int
	n      int
}

func (w *discardWriter) Header() http.Header { return w.header }
func (w *discardWriter) WriteHeader(s int)   { w.status = s }
func (w *discardWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.n += len(p)
	return len(p), nil
}

// benchPublisher returns the routes of a Publisher over a fresh in-memory RS256 key set.
func benchPublisher(b *testing.B) *http.ServeMux {
	b.Helper()
	mgr, err := keys.NewManager(keys.Config{Backend: keys.NewMemory(), Policy: keys.Policy{
		Period: 720 * time.Hour, Prepublish: 24 * time.Hour, Retain: 24 * time.Hour, Alg: keys.RS256,
	}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatalf("key manager: %v", err)
	}
	if _, err := mgr.Refresh(context.Background()); err != nil {
		b.Fatalf("refresh keys: %v", err)
	}
	pub, err := NewPublisher(PublisherConfig{Issuer: "https://broker.example.com", Keys: mgr})
	if err != nil {
		b.Fatalf("publisher: %v", err)
	}
	mux := http.NewServeMux()
	pub.Mount(mux)
	return mux
}

// benchDocument serves GET path through the Publisher's routes from every core, checking
// each answer's status and body length. A want of 304 sends the document's ETag as
// If-None-Match; any other want is 200 with the whole document.
func benchDocument(b *testing.B, path string, want int) {
	mux := benchPublisher(b)
	probe := &discardWriter{header: http.Header{}}
	req, err := http.NewRequest(http.MethodGet, "https://broker.example.com"+path, nil)
	if err != nil {
		b.Fatal(err)
	}
	mux.ServeHTTP(probe, req)
	if probe.status != http.StatusOK || probe.n == 0 {
		b.Fatalf("GET %s: status %d, %d bytes", path, probe.status, probe.n)
	}
	size := probe.n
	if want == http.StatusNotModified {
		req.Header.Set("If-None-Match", probe.header.Get("ETag"))
		size = 0
	}
	runParallelCPU(b, func(pb *testing.PB) {
		r := req.Clone(context.Background())
		w := &discardWriter{header: http.Header{}}
		for pb.Next() {
			clear(w.header)
			w.status, w.n = 0, 0
			mux.ServeHTTP(w, r)
			if w.status != want || w.n != size {
				b.Errorf("GET %s: status %d, %d bytes; want %d, %d", path, w.status, w.n, want, size)
				return
			}
		}
	})
}

// BenchmarkJWKSHandler is one GET of the JWKS through the mounted route (the server's
// middleware excluded): the cost the public documents add above the HTTP exchange.
func BenchmarkJWKSHandler(b *testing.B) { benchDocument(b, JWKSPath, http.StatusOK) }

// BenchmarkDiscoveryHandler is one GET of the discovery document.
func BenchmarkDiscoveryHandler(b *testing.B) { benchDocument(b, DiscoveryPath, http.StatusOK) }

// BenchmarkJWKSHandlerNotModified is one conditional GET answered 304.
func BenchmarkJWKSHandlerNotModified(b *testing.B) {
	benchDocument(b, JWKSPath, http.StatusNotModified)
}
