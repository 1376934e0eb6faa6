package fastpath

import (
	"net/http"
	"testing"
	"time"
)

// TestGetsGoToTheService: a GET of one of Gets that the Handler does not answer goes to the
// Service on the fast path, and its connection stays with the fast path for the requests after
// it; a HEAD of it, a GET of it with a body and a GET of another path go to net/http, and a GET
// the Handler answers stays the Handler's.
// Guards against: a connection that asked only for a health probe being handed to net/http,
// which keeps its read and write buffers for as long as the connection idles.
func TestGetsGoToTheService(t *testing.T) {
	svc := newPostService()
	hs := start(t, Config{Service: svc, Posts: []string{"/token"}, Gets: []string{"/healthz", "/doc"},
		ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 5 * time.Second})
	probe := "GET /healthz HTTP/1.1\r\nHost: h\r\n\r\n"
	tests := []struct {
		name     string
		method   string
		raw      string
		wantPath string
		wantBody string
	}{
		{"probe", "GET", probe, "fast", "service "},
		{"document", "GET", get, "fast", "fast "},
		{"probe again", "GET", probe, "fast", "service "},
		{"HEAD of the probe", "HEAD", "HEAD /healthz HTTP/1.1\r\nHost: h\r\n\r\n", "std", ""},
		{"probe with a body", "GET", "GET /healthz HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nhi", "std", "GET /healthz hi"},
		{"another path", "GET", "GET /other HTTP/1.1\r\nHost: h\r\n\r\n", "std", "GET /other "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := hs.std.Load()
			cl := hs.dial(t)
			cl.send(tc.raw)
			path, status, body := cl.read(tc.method)
			if status != http.StatusOK || path != tc.wantPath || body != tc.wantBody {
				t.Fatalf("answer %d from %q: %q; want 200 from %q: %q", status, path, body, tc.wantPath, tc.wantBody)
			}
			if std := hs.std.Load() > before; std != (tc.wantPath == "std") {
				t.Errorf("net/http answered: %v, want %v", std, tc.wantPath == "std")
			}
		})
	}
	t.Run("the connection stays with the fast path", func(t *testing.T) {
		cl := hs.dial(t)
		cl.send(probe)
		if path, _, _ := cl.read("GET"); path != "fast" {
			t.Fatalf("probe answered from %q", path)
		}
		// A HEAD the Handler answers is the fast path's only on a connection it still holds:
		// one handed to net/http gets net/http's answer.
		cl.send("HEAD /doc HTTP/1.1\r\nHost: h\r\n\r\n")
		if path, _, _ := cl.read("HEAD"); path != "fast" {
			t.Fatalf("after the probe, a HEAD of the document was answered from %q: the connection went to net/http", path)
		}
	})
}
