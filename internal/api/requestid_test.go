package api

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
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
