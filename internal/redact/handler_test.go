package redact

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/logging"
)

// TestHandlerCutsSecretsFromEveryLine: a line logged through NewHandler carries no secret, in
// its message, a string, an error, a printed value, a group, an attribute given to WithAttrs,
// with text and JSON handlers alike, and a request line written by the JSON handler's fast path;
// a line without a secret is written as it is.
// Guards against: handler.go:Handle passing records on uncut, or cutting strings only
// Guards against: handler.go:WithAttrs or LogRequest passing their attributes on uncut
func TestHandlerCutsSecretsFromEveryLine(t *testing.T) {
	const secret = "brk_run_AbCdEf0123456789-_xyz"
	body := strings.TrimPrefix(secret, Prefix)
	for _, format := range []string{"text", "json"} {
		var out bytes.Buffer
		var base slog.Handler = slog.NewTextHandler(&out, nil)
		if format == "json" {
			base = logging.NewJSONHandler(&out)
		}
		log := slog.New(NewHandler(base))
		log.Error("store unavailable", "err", fmt.Errorf("get run %s: %w", secret, errors.New("refused")))
		log.Info("looked up "+secret, "id", secret, "ids", []string{"a", secret}, slog.Group("g", slog.String("path", "/v1/runs/"+secret)))
		log.With("from", secret).Warn("with attrs")
		log.WithGroup("grp").Info("in a group", "x", secret)
		plain := "/v1/stacks/vpc-prod"
		log.Info("plain", "path", plain, "n", 3)
		h := NewHandler(base)
		fast, ok := h.(logging.RequestLogger)
		if !ok {
			t.Fatalf("%s: the handler loses the request lines' fast path", format)
		}
		// As the access log writes a request line: the fast path, else Handle.
		for _, path := range []string{"/v1/runs/" + secret, plain} {
			id := "req-1"
			if path != plain {
				id = "req-" + secret
			}
			line := logging.Request{Time: time.Now(), Method: "GET", Path: path, Route: "GET /v1/runs/{id}", Status: 404, RequestID: id}
			if !fast.LogRequest(line) {
				if path == plain && format == "json" {
					t.Errorf("%s: a request line without a secret in its path did not take the fast path", format)
				}
				_ = h.Handle(context.Background(), line.Record())
			}
		}
		got := out.String()
		if strings.Contains(got, body) {
			t.Errorf("%s: a line carries the secret:\n%s", format, got)
		}
		for _, want := range []string{"brk_…", plain, "with attrs", "in a group", "refused"} {
			if !strings.Contains(got, want) {
				t.Errorf("%s: the lines lack %q:\n%s", format, want, got)
			}
		}
		if n := strings.Count(got, "\n"); n != 7 {
			t.Errorf("%s: %d lines written:\n%s", format, n, got)
		}
	}
	if h := NewHandler(slog.DiscardHandler); NewHandler(h) != h {
		t.Error("NewHandler wraps its own handler again")
	}
}
