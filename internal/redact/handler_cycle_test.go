package redact

import (
	"bytes"
	"log/slog"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/logging"
)

// TestCyclicValueJSONHandler: slog's JSON handler (the server's default) writes a cyclic map as
// json.Marshal's cycle error; the redact handler does not print it with fmt's %+v, which has no
// cycle detection and would recurse until the stack is exhausted, a fatal error ending the
// process (the stack limit is lowered here only to make that quick).
// Guards against: handler.go printed formatting with %+v a value whose JSON found a cycle.
func TestCyclicValueJSONHandler(t *testing.T) {
	m := map[string]any{"id": "r1"}
	m["self"] = m
	var plain bytes.Buffer
	slog.New(logging.NewJSONHandler(&plain)).Info("m", "v", m)
	if !strings.Contains(plain.String(), "cycle") {
		t.Fatalf("slog's JSON handler alone: %s", plain.String())
	}
	t.Logf("slog alone wrote: %s", strings.TrimSpace(plain.String()))
	old := debug.SetMaxStack(64 << 20)
	defer debug.SetMaxStack(old)
	var out bytes.Buffer
	slog.New(NewHandler(logging.NewJSONHandler(&out))).Info("m", "v", m)
	if !strings.Contains(out.String(), "cycle") {
		t.Errorf("through redact: %s, want the JSON handler's cycle error", strings.TrimSpace(out.String()))
	}
}
