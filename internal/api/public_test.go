package api

import (
	"bufio"
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/brokerhq/broker/internal/fastpath"
	"github.com/brokerhq/broker/internal/issuer"
)

// fakeDocument answers with a fixed status and body, as a public document handler does.
type fakeDocument struct {
	status int
	body   string
	calls  int
}

func (f *fakeDocument) serve(w http.ResponseWriter, r *http.Request) int {
	f.calls++
	w.WriteHeader(f.status)
	_, _ = w.Write([]byte(f.body))
	return f.status
}

func TestPublicFastPath(t *testing.T) {
	tests := []struct {
		name, method, path, requestID string
		status                        int
		wantServed, wantNext, wantLog bool
		wantID                        string // "" means a fresh one
	}{
		{"GET answered 200", "GET", "/jwks", "", 200, true, false, false, ""},
		{"caller's request id is echoed", "GET", "/jwks", "trace-1.a_b", 200, true, false, false, "trace-1.a_b"},
		{"malformed request id is replaced", "GET", "/jwks", "a b", 200, true, false, false, ""},
		{"HEAD", "HEAD", "/jwks", "", 200, true, false, false, ""},
		{"304 is not logged", "GET", "/jwks", "", 304, true, false, false, ""},
		{"503 is logged", "GET", "/jwks", "", 503, true, false, true, ""},
		{"POST goes to the router", "POST", "/jwks", "", 200, false, true, false, ""},
		{"other path goes to the router", "GET", "/v1/runs", "", 200, false, true, false, ""},
		{"longer path goes to the router", "GET", "/jwks/x", "", 200, false, true, false, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc := &fakeDocument{status: tc.status, body: "{}"}
			nextCalls := 0
			next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { nextCalls++ })
			var logs bytes.Buffer
			reg := prometheus.NewRegistry()
			m := NewMetrics(reg)
			h := Public(PublicConfig{Routes: map[string]issuer.Document{"/jwks": {Serve: doc.serve}}, Next: next,
				Logger: slog.New(slog.NewJSONHandler(&logs, nil)), Metrics: m})
			req := httptest.NewRequest(tc.method, tc.path, nil)
			if tc.requestID != "" {
				req.Header.Set(RequestIDHeader, tc.requestID)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if (doc.calls == 1) != tc.wantServed || (nextCalls == 1) != tc.wantNext {
				t.Fatalf("document served %d times, router %d times; want served %v, router %v", doc.calls, nextCalls, tc.wantServed, tc.wantNext)
			}
			if !tc.wantServed {
				return
			}
			id := rec.Header().Get(RequestIDHeader)
			switch {
			case tc.wantID != "" && id != tc.wantID:
				t.Errorf("X-Request-Id = %q, want %q", id, tc.wantID)
			case tc.wantID == "" && (!wellFormedRequestID(id) || id == tc.requestID):
				t.Errorf("X-Request-Id = %q, want a fresh well-formed id", id)
			}
			if got := testutil.ToFloat64(m.requests.WithLabelValues("GET /jwks", strconv.Itoa(tc.status))); got != 1 {
				t.Errorf("broker_http_requests_total{route=\"GET /jwks\",code=\"%d\"} = %v, want 1", tc.status, got)
			}
			if n := testutil.CollectAndCount(m.duration); n != 1 {
				t.Errorf("duration histogram has %d series, want 1", n)
			}
			logged := strings.Contains(logs.String(), `"msg":"request"`)
			if logged != tc.wantLog {
				t.Errorf("access log line written = %v, want %v: %s", logged, tc.wantLog, logs.String())
			}
			if logged && !strings.Contains(logs.String(), `"request_id":"`+id+`"`) {
				t.Errorf("access log line lacks the request id %q: %s", id, logs.String())
			}
		})
	}
}

func TestPublicFastPathRecoversPanic(t *testing.T) {
	var logs bytes.Buffer
	m := NewMetrics(prometheus.NewRegistry())
	h := Public(PublicConfig{
		Routes: map[string]issuer.Document{"/jwks": {Serve: func(http.ResponseWriter, *http.Request) int { panic("boom") }}},
		Next:   http.NotFoundHandler(), Logger: slog.New(slog.NewJSONHandler(&logs, nil)), Metrics: m,
	})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/jwks", nil))
	if rec.Code != http.StatusInternalServerError || !strings.Contains(rec.Body.String(), `"code"`) {
		t.Errorf("answer %d %s, want 500 in the error envelope", rec.Code, rec.Body)
	}
	if !strings.Contains(logs.String(), "handler panic") {
		t.Errorf("panic not logged: %s", logs.String())
	}
	if got := testutil.ToFloat64(m.requests.WithLabelValues("GET /jwks", "500")); got != 1 {
		t.Errorf("500 counted %v times, want 1", got)
	}
}

// TestPublicFastPathAnswerPanicGoesToNetHTTP: a document whose wire answer panics is declined
// on the fast path, so net/http serves the request and ServeHTTP answers the contract's 500
// (logged and counted) instead of the connection closing without an answer.
func TestPublicFastPathAnswerPanicGoesToNetHTTP(t *testing.T) {
	h := Public(PublicConfig{
		Routes: map[string]issuer.Document{"/jwks": {
			Serve: func(http.ResponseWriter, *http.Request) int { panic("boom") },
			Wire:  func(string) (issuer.WireAnswer, bool) { panic("boom") },
		}},
		Next: http.NotFoundHandler(), Logger: slog.New(slog.DiscardHandler), Metrics: NewMetrics(prometheus.NewRegistry()),
	})
	dst := []byte("kept")
	var out []byte
	var ok bool
	func() {
		defer func() {
			if v := recover(); v != nil {
				t.Fatalf("Answer panicked: %v", v)
			}
		}()
		out, ok = h.Answer(dst, &fastpath.Request{Path: []byte("/jwks")})
	}()
	if ok || string(out) != "kept" {
		t.Errorf("Answer = %q, %v; want the buffer as given and false", out, ok)
	}
}

func TestPublicAnswerOnTheFastPath(t *testing.T) {
	wire := func(ifNoneMatch string) (issuer.WireAnswer, bool) {
		switch ifNoneMatch {
		case "down":
			return issuer.WireAnswer{}, false
		case `"e"`:
			return issuer.WireAnswer{Status: 304, Header: []byte("Etag: \"e\"\r\n")}, true
		}
		return issuer.WireAnswer{Status: 200, Header: []byte("Etag: \"e\"\r\nContent-Length: 2\r\n"), Body: []byte("{}")}, true
	}
	tests := []struct {
		name         string
		req          fastpath.Request
		wantOK       bool
		status       int
		body, wantID string // wantID "" means a fresh id
	}{
		{"GET", fastpath.Request{Path: []byte("/jwks")}, true, 200, "{}", ""},
		{"HEAD leaves out the body", fastpath.Request{Head: true, Path: []byte("/jwks")}, true, 200, "", ""},
		{"304", fastpath.Request{Path: []byte("/jwks"), IfNoneMatch: []byte(`"e"`)}, true, 304, "", ""},
		{"caller's request id", fastpath.Request{Path: []byte("/jwks"), RequestID: []byte("trace-1")}, true, 200, "{}", "trace-1"},
		{"malformed request id is replaced", fastpath.Request{Path: []byte("/jwks"), RequestID: []byte("a b")}, true, 200, "{}", ""},
		{"documents unavailable go to net/http", fastpath.Request{Path: []byte("/jwks"), IfNoneMatch: []byte("down")}, false, 0, "", ""},
		{"a path without a wire form goes to net/http", fastpath.Request{Path: []byte("/doc")}, false, 0, "", ""},
		{"another path goes to net/http", fastpath.Request{Path: []byte("/v1/runs")}, false, 0, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := NewMetrics(prometheus.NewRegistry())
			doc := &fakeDocument{status: 200}
			h := Public(PublicConfig{
				Routes: map[string]issuer.Document{"/jwks": {Serve: doc.serve, Wire: wire}, "/doc": {Serve: doc.serve}},
				Next:   http.NotFoundHandler(), Logger: slog.New(slog.DiscardHandler), Metrics: m,
			})
			out, ok := h.Answer([]byte("kept"), &tc.req)
			if ok != tc.wantOK {
				t.Fatalf("Answer ok = %v, want %v", ok, tc.wantOK)
			}
			if !ok {
				if string(out) != "kept" {
					t.Errorf("declined answer changed dst: %q", out)
				}
				return
			}
			if !bytes.HasPrefix(out, []byte("kept")) {
				t.Fatalf("answer does not append to dst: %q", out)
			}
			method := "GET"
			if tc.req.Head {
				method = "HEAD"
			}
			resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(out[len("kept"):])), &http.Request{Method: method})
			if err != nil {
				t.Fatalf("answer %q: %v", out, err)
			}
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.status || string(body) != tc.body {
				t.Errorf("answer %d %q, want %d %q", resp.StatusCode, body, tc.status, tc.body)
			}
			if _, err := http.ParseTime(resp.Header.Get("Date")); err != nil {
				t.Errorf("Date: %v", err)
			}
			id := resp.Header.Get(RequestIDHeader)
			if (tc.wantID != "" && id != tc.wantID) || (tc.wantID == "" && (!wellFormedRequestID(id) || len(id) != 26)) {
				t.Errorf("X-Request-Id %q, want %q (empty: a fresh one)", id, tc.wantID)
			}
			if resp.Header.Get("Etag") != `"e"` {
				t.Errorf("Etag %q", resp.Header.Get("Etag"))
			}
			if got := testutil.ToFloat64(m.requests.WithLabelValues("GET /jwks", strconv.Itoa(tc.status))); got != 1 {
				t.Errorf("answer counted %v times, want 1", got)
			}
			if doc.calls != 0 {
				t.Errorf("the net/http handler was called")
			}
		})
	}
}
