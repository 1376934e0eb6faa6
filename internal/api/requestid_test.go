package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestRequestIDIsEchoedAndLogged(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A handler logging through a logger of its own, wrapped once more and with attrs.
		own := slog.New(LogRequestIDs(LogRequestIDs(log.Handler()))).With("component", "x")
		own.InfoContext(r.Context(), "inside")
		if RequestID(r.Context()) == "" {
			t.Error("the handler's context has no request id")
		}
		w.WriteHeader(http.StatusNoContent)
	})
	h := Instrument(inner, log, nil)
	tests := []struct {
		name, sent string
		keep       bool
	}{
		{"well formed", "abc-DEF_1.2", true},
		{"64 bytes", strings.Repeat("a", 64), true},
		{"absent", "", false},
		{"65 bytes", strings.Repeat("a", 65), false},
		{"space", "a b", false},
		{"newline", "a\nb", false},
		{"non-ASCII", "é", false},
		{"slash", "a/b", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			logs.Reset()
			req := httptest.NewRequest(http.MethodGet, "/x", nil)
			if tc.sent != "" {
				req.Header[RequestIDHeader] = []string{tc.sent}
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			id := rec.Header().Get(RequestIDHeader)
			if tc.keep != (id == tc.sent) || !wellFormedRequestID(id) {
				t.Errorf("X-Request-Id = %q for %q sent", id, tc.sent)
			}
			lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
			if len(lines) != 2 {
				t.Fatalf("want the handler's line and the request line, got %q", logs.String())
			}
			for _, line := range lines {
				var rec map[string]any
				if err := json.Unmarshal([]byte(line), &rec); err != nil || rec[FieldRequestID] != id {
					t.Errorf("line %s does not carry request id %q once", line, id)
				}
				if strings.Count(line, FieldRequestID) != 1 {
					t.Errorf("line %s carries the request id twice", line)
				}
			}
		})
	}
}

func TestLogRequestIDsWithoutARequest(t *testing.T) {
	var logs bytes.Buffer
	slog.New(LogRequestIDs(slog.NewJSONHandler(&logs, nil))).InfoContext(context.Background(), "background")
	if strings.Contains(logs.String(), FieldRequestID) {
		t.Errorf("a line outside any request got a request id: %s", logs.String())
	}
}

// TestWithRequestIDIsAContext checks the request-id context behaves as context.WithValue: the
// id by RequestID and Value, the parent's values, deadline and cancellation passed through.
func TestWithRequestIDIsAContext(t *testing.T) {
	type otherKey struct{}
	parent, cancel := context.WithCancel(context.WithValue(context.Background(), otherKey{}, "v"))
	ctx := WithRequestID(parent, "req-7")
	if got := RequestID(ctx); got != "req-7" {
		t.Errorf("RequestID = %q, want req-7", got)
	}
	if got := ctx.Value(requestIDKey{}); got != "req-7" {
		t.Errorf("Value(requestIDKey) = %v, want req-7", got)
	}
	if got := ctx.Value(otherKey{}); got != "v" {
		t.Errorf("parent value = %v, want v", got)
	}
	child, stop := context.WithTimeout(ctx, time.Hour)
	defer stop()
	if got := RequestID(child); got != "req-7" {
		t.Errorf("RequestID of a derived context = %q, want req-7", got)
	}
	if got := RequestID(context.Background()); got != "" {
		t.Errorf("RequestID without one = %q, want empty", got)
	}
	cancel()
	select {
	case <-child.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("cancelling the parent did not end the derived context")
	}
	if !errors.Is(ctx.Err(), context.Canceled) {
		t.Errorf("Err = %v, want context.Canceled", ctx.Err())
	}
	if http.CanonicalHeaderKey(RequestIDHeader) != RequestIDHeader { // Instrument sets it by map key
		t.Errorf("RequestIDHeader %q is not in canonical form", RequestIDHeader)
	}
}
