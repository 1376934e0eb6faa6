package api

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/runs"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// instrumentedFor serves one GET /x through Instrument with handler h and returns the
// answer, the log and the metrics.
func instrumentedFor(t *testing.T, h http.HandlerFunc) (
	*httptest.ResponseRecorder, string, *Metrics,
) {
	t.Helper()
	var logs bytes.Buffer
	m := NewMetrics(prometheus.NewRegistry())
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/x", nil)
	req.Header.Set(RequestIDHeader, "req-panic")
	Instrument(h, slog.New(slog.NewJSONHandler(&logs, nil)), m).ServeHTTP(rec, req)
	return rec, logs.String(), m
}

// TestInstrumentPanicBeforeAnswer checks that a handler that panics before answering gets
// the contract's 500 error envelope (code internal, no panic text), with its request id, a log
// line and the 500 counted.
// Guards against: middleware.go: rec.status == 0 -> != 0 (no answer written after a panic)
// Guards against: middleware.go: the envelope not written after a panic
func TestInstrumentPanicBeforeAnswer(t *testing.T) {
	rec, logs, m := instrumentedFor(t, func(http.ResponseWriter, *http.Request) {
		panic("boom: secret-value")
	})
	body := rec.Body.String()
	if rec.Code != http.StatusInternalServerError || !strings.Contains(body, `"code":"internal"`) {
		t.Errorf("answer %d %s, want 500 in the error envelope", rec.Code, body)
	}
	if strings.Contains(body, "secret-value") {
		t.Errorf("the answer repeats the panic: %s", body)
	}
	if got := rec.Header().Get(RequestIDHeader); got != "req-panic" {
		t.Errorf("X-Request-Id %q, want req-panic", got)
	}
	if !strings.Contains(logs, "handler panic") || !strings.Contains(logs, "req-panic") {
		t.Errorf("panic not logged with the request id: %s", logs)
	}
	if got := testutil.ToFloat64(m.requests.WithLabelValues("unmatched", "500")); got != 1 {
		t.Errorf("500 counted %v times, want 1", got)
	}
}

// TestInstrumentPanicAfterAnswer checks that a handler that panics after it began its
// answer keeps that answer: no error envelope is appended to a body already under way, and the
// status counted is the one sent.
// Guards against: middleware.go: rec.status == 0 check dropped (envelope appended to a sent answer)
func TestInstrumentPanicAfterAnswer(t *testing.T) {
	rec, _, m := instrumentedFor(t, func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write([]byte("partial"))
		panic("late")
	})
	if rec.Code != http.StatusAccepted || rec.Body.String() != "partial" {
		t.Errorf("answer %d %q, want 202 \"partial\" alone", rec.Code, rec.Body)
	}
	if got := testutil.ToFloat64(m.requests.WithLabelValues("unmatched", "202")); got != 1 {
		t.Errorf("202 counted %v times, want 1", got)
	}
}

// TestInstrumentCountsTheFirstStatus checks that the status counted and logged is the one
// sent, the first WriteHeader, not a later superfluous call.
// Guards against: middleware.go: statusRecorder keeps the last status instead of the first
func TestInstrumentCountsTheFirstStatus(t *testing.T) {
	rec, logs, m := instrumentedFor(t, func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusCreated)
		w.WriteHeader(http.StatusInternalServerError)
	})
	if rec.Code != http.StatusCreated {
		t.Fatalf("answer %d, want 201", rec.Code)
	}
	if got := testutil.ToFloat64(m.requests.WithLabelValues("unmatched", "201")); got != 1 {
		t.Errorf("201 counted %v times, want 1", got)
	}
	if !strings.Contains(logs, `"status":201`) {
		t.Errorf("access line does not log status 201: %s", logs)
	}
}

// TestInstrumentAbortHandlerPanicsOn checks that http.ErrAbortHandler, net/http's way to
// abort an answer quietly, is passed on rather than answered with an error envelope.
// Guards against: middleware.go: the ErrAbortHandler re-panic dropped
func TestInstrumentAbortHandlerPanicsOn(t *testing.T) {
	defer func() {
		if p := recover(); p != http.ErrAbortHandler {
			t.Errorf("recovered %v, want http.ErrAbortHandler passed on", p)
		}
	}()
	instrumentedFor(t, func(http.ResponseWriter, *http.Request) { panic(http.ErrAbortHandler) })
}

// TestTokenIssuedCountsByScope checks broker_tokens_issued_total{scope}: a read token is
// counted under read, a write token under write, anything else nowhere, and nil Metrics is a
// no-op.
// Guards against: middleware.go: read and write counters swapped
// Guards against: middleware.go: nil check dropped
func TestTokenIssuedCountsByScope(t *testing.T) {
	m := NewMetrics(prometheus.NewRegistry())
	m.tokenIssued(runs.Read)
	m.tokenIssued(runs.Read)
	m.tokenIssued(runs.Write)
	m.tokenIssued(runs.Scope("admin"))
	if r, w := testutil.ToFloat64(m.tokensRead), testutil.ToFloat64(m.tokensWrite); r != 2 || w != 1 {
		t.Errorf("read %v, write %v; want 2 and 1", r, w)
	}
	var none *Metrics
	none.tokenIssued(runs.Write)
}
