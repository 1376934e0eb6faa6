package server

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/brokerhq/broker/internal/fastpath"
	"github.com/brokerhq/broker/internal/issuer"
)

// countingFast counts the requests the fast path answered.
type countingFast struct {
	fastpath.Handler
	n atomic.Int32
}

func (c *countingFast) Answer(dst []byte, req *fastpath.Request) ([]byte, bool) {
	out, ok := c.Handler.Answer(dst, req)
	if ok {
		c.n.Add(1)
	}
	return out, ok
}

// freshRequestID is the form of a request id the server makes.
var freshRequestID = regexp.MustCompile(`^[A-Z2-7]{26}$`)

// TestPublicDocumentsAnswerAlikeOnBothPaths sends each request to the plain-HTTP listener,
// where the fast path answers it, and to the same replica's handler behind net/http, and
// expects the same status, headers and body.
func TestPublicDocumentsAnswerAlikeOnBothPaths(t *testing.T) {
	counter := &countingFast{}
	ts := startServer(t, serverOptions{wrapFast: func(h fastpath.Handler) fastpath.Handler {
		counter.Handler = h
		return counter
	}})
	std := httptest.NewServer(ts.srv.Handler())
	t.Cleanup(std.Close)
	fast := &http.Client{}
	// do sends a bodiless request with the given headers to url (a listener's URL and a path)
	// and returns the answer with its body read.
	do := func(t *testing.T, method, url string, header map[string]string) (*http.Response, []byte) {
		t.Helper()
		req, err := http.NewRequest(method, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := fast.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, body
	}
	for _, path := range []string{issuer.JWKSPath, issuer.DiscoveryPath} {
		first, _ := do(t, "GET", std.URL+path, nil)
		etag := first.Header.Get("Etag")
		if etag == "" {
			t.Fatalf("GET %s: no ETag", path)
		}
		tests := []struct {
			name, method string
			header       map[string]string
			status       int
		}{
			{"GET", "GET", nil, 200},
			{"HEAD", "HEAD", nil, 200},
			{"If-None-Match with the ETag", "GET", map[string]string{"If-None-Match": etag}, 304},
			{"If-None-Match weak", "GET", map[string]string{"If-None-Match": "W/" + etag}, 304},
			{"If-None-Match *", "GET", map[string]string{"If-None-Match": "*"}, 304},
			{"If-None-Match in a list", "GET", map[string]string{"If-None-Match": `"other", ` + etag}, 304},
			{"If-None-Match another tag", "GET", map[string]string{"If-None-Match": `"other"`}, 200},
			{"If-None-Match empty", "GET", map[string]string{"If-None-Match": ""}, 200},
			{"HEAD with the ETag", "HEAD", map[string]string{"If-None-Match": etag}, 304},
			{"caller's request id", "GET", map[string]string{"X-Request-Id": "trace-1.a_b"}, 200},
			{"malformed request id", "GET", map[string]string{"X-Request-Id": "a;b"}, 200},
		}
		for _, tc := range tests {
			t.Run(path+" "+tc.name, func(t *testing.T) {
				before := counter.n.Load()
				got, gotBody := do(t, tc.method, ts.URL+path, tc.header)
				if counter.n.Load() != before+1 {
					t.Fatalf("the fast path did not answer")
				}
				want, wantBody := do(t, tc.method, std.URL+path, tc.header)
				if got.StatusCode != tc.status || want.StatusCode != tc.status {
					t.Fatalf("status %d on the fast path, %d through net/http; want %d", got.StatusCode, want.StatusCode, tc.status)
				}
				if string(gotBody) != string(wantBody) {
					t.Errorf("bodies differ:\nfast %q\nstd  %q", gotBody, wantBody)
				}
				keys := func(h http.Header) []string {
					out := make([]string, 0, len(h))
					for k := range h {
						out = append(out, k)
					}
					slices.Sort(out)
					return out
				}
				if g, w := keys(got.Header), keys(want.Header); !slices.Equal(g, w) {
					t.Fatalf("header names differ:\nfast %v\nstd  %v", g, w)
				}
				for k, w := range want.Header {
					g := got.Header[k]
					switch k {
					case "Date":
						if _, err := http.ParseTime(g[0]); err != nil || len(g) != 1 {
							t.Errorf("Date %q: %v", g, err)
						}
					case "X-Request-Id":
						id := tc.header["X-Request-Id"]
						if id == "trace-1.a_b" && (g[0] != id || w[0] != id) {
							t.Errorf("X-Request-Id %q and %q, want the caller's %q", g[0], w[0], id)
						}
						if id != "trace-1.a_b" && (!freshRequestID.MatchString(g[0]) || !freshRequestID.MatchString(w[0])) {
							t.Errorf("X-Request-Id %q and %q, want fresh ids", g[0], w[0])
						}
					default:
						if !slices.Equal(g, w) {
							t.Errorf("%s: %q on the fast path, %q through net/http", k, g, w)
						}
					}
				}
			})
		}
	}
	samples := scrape(t, ts)
	if n := value(t, samples, "broker_http_requests_total", "route", "GET "+issuer.JWKSPath, "code", "304"); n != 2*5 {
		t.Errorf("304s of the JWKS counted %v, want 10 (5 on each path)", n)
	}
}

func TestFastPathLeavesOtherRequestsToNetHTTP(t *testing.T) {
	counter := &countingFast{}
	ts := startServer(t, serverOptions{wrapFast: func(h fastpath.Handler) fastpath.Handler {
		counter.Handler = h
		return counter
	}})
	tests := []struct {
		method, path string
		fast         bool
		status       int
		close        bool // sends Connection: close
	}{
		{"GET", issuer.JWKSPath, true, 200, false},
		{"GET", issuer.JWKSPath, false, 200, true},
		{"GET", "/healthz", false, 200, false},
		{"GET", issuer.JWKSPath + "?x=1", false, 200, false},
		{"GET", issuer.JWKSPath + "/", false, 404, false},
		{"POST", issuer.JWKSPath, false, 405, false},
		{"GET", "/nope", false, 404, false},
	}
	for _, tc := range tests {
		before := counter.n.Load()
		req, _ := http.NewRequest(tc.method, ts.URL+tc.path, nil)
		req.Close = tc.close
		tr := &http.Transport{} // a connection of its own, kept alive
		t.Cleanup(tr.CloseIdleConnections)
		resp, err := (&http.Client{Transport: tr}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if fast := counter.n.Load() > before; fast != tc.fast || resp.StatusCode != tc.status {
			t.Errorf("%s %s: %d, by the fast path %v; want %d, %v", tc.method, tc.path, resp.StatusCode, fast, tc.status, tc.fast)
		}
		if resp.Header.Get("X-Request-Id") == "" {
			t.Errorf("%s %s: no X-Request-Id", tc.method, tc.path)
		}
	}
}
