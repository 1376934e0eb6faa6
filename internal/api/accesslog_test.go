package api

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/brokerhq/broker/internal/logging"
)

// TestAccessLogLineIsUnchanged compares the request line with the one the logger API makes
// through LogRequestIDs (time and duration, which differ, set to fixed values).
func TestAccessLogLineIsUnchanged(t *testing.T) {
	fixed := func(_ []string, a slog.Attr) slog.Attr {
		switch a.Key {
		case slog.TimeKey:
			a.Value = slog.StringValue("T")
		case "duration":
			a.Value = slog.DurationValue(time.Millisecond)
		}
		return a
	}
	for _, textual := range []bool{false, true} {
		var got, want bytes.Buffer
		mk := func(w *bytes.Buffer) *slog.Logger {
			if textual {
				return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{ReplaceAttr: fixed})).With("component", "api")
			}
			return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{ReplaceAttr: fixed})).With("component", "api")
		}
		h := Instrument(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) }), mk(&got), nil)
		req := httptest.NewRequest(http.MethodPost, "/v1/token?x=1", nil)
		req.Header.Set(RequestIDHeader, "req-1")
		h.ServeHTTP(httptest.NewRecorder(), req)

		ctx := WithRequestID(context.Background(), "req-1")
		slog.New(LogRequestIDs(mk(&want).Handler())).LogAttrs(ctx, slog.LevelInfo, "request", slog.String("method", "POST"),
			slog.String("path", "/v1/token"), slog.String("route", "unmatched"), slog.Int("status", http.StatusTeapot),
			slog.Duration("duration", time.Millisecond), slog.String("remote", req.RemoteAddr))
		if got.String() != want.String() {
			t.Errorf("text %v:\n got %s\nwant %s", textual, got.String(), want.String())
		}
	}
}

func TestAccessLogQuietBelowInfo(t *testing.T) {
	var out bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&out, &slog.HandlerOptions{Level: slog.LevelWarn}))
	h := Instrument(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}), log, nil)
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/x", nil))
	if out.Len() != 0 {
		t.Errorf("a Warn logger got %s", out.String())
	}
}

func TestMetricsCountEachRouteAndCode(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /a", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Has("fail") {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		_, _ = w.Write([]byte("ok"))
	})
	h := Instrument(mux, slog.New(slog.DiscardHandler), m)
	for _, path := range []string{"/a", "/a", "/a?fail", "/nowhere", "/a"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, path, nil))
	}
	for _, c := range []struct {
		route, code string
		want        float64
	}{{"GET /a", "200", 3}, {"GET /a", "400", 1}, {"unmatched", "404", 1}} {
		if got := testutil.ToFloat64(m.requests.WithLabelValues(c.route, c.code)); got != c.want {
			t.Errorf("requests{%s,%s} = %v, want %v", c.route, c.code, got, c.want)
		}
	}
	if got := testutil.CollectAndCount(m.duration); got != 2 {
		t.Errorf("%d duration series, want 2 (one per route)", got)
	}
	if n, err := testutil.GatherAndCount(reg, "broker_http_request_duration_seconds"); err != nil || n != 2 {
		t.Errorf("gathered %d duration series (%v)", n, err)
	}
}

// fakeRequestLogger is a handler with its own writer of request lines, which takes them or not.
type fakeRequestLogger struct {
	slog.Handler // records what goes through Handle
	takes        bool
	lines        []logging.Request
}

func (f *fakeRequestLogger) LogRequest(r logging.Request) bool {
	f.lines = append(f.lines, r)
	return f.takes
}

// The access line goes to a handler's own writer of request lines when it has one and takes
// it; through Handle, as the same record, when it declines.
func TestAccessLogUsesTheHandlersRequestWriter(t *testing.T) {
	for _, takes := range []bool{true, false} {
		var handled bytes.Buffer
		fake := &fakeRequestLogger{Handler: slog.NewJSONHandler(&handled, nil), takes: takes}
		h := Instrument(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) }), slog.New(fake), nil)
		req := httptest.NewRequest(http.MethodPost, "/v1/token?x=1", nil)
		req.Header.Set(RequestIDHeader, "req-1")
		h.ServeHTTP(httptest.NewRecorder(), req)
		if len(fake.lines) != 1 {
			t.Fatalf("takes %v: LogRequest called %d times, want once", takes, len(fake.lines))
		}
		got := fake.lines[0]
		if got.Method != "POST" || got.Path != "/v1/token" || got.Route != "unmatched" || got.Status != http.StatusTeapot ||
			got.Remote != req.RemoteAddr || got.RequestID != "req-1" || got.Time.IsZero() || got.Duration < 0 {
			t.Errorf("takes %v: line %+v", takes, got)
		}
		if takes && handled.Len() != 0 {
			t.Errorf("a line the handler took also went through Handle: %s", handled.String())
		}
		if !takes && !strings.Contains(handled.String(), `"msg":"request","method":"POST","path":"/v1/token","route":"unmatched","status":418`) {
			t.Errorf("a declined line did not go through Handle: %q", handled.String())
		}
	}
}
