package redact

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/logging"
)

// TestHandlerCutsSecretBehindPointer: a value whose secret lies behind a pointer below its top
// level (a struct's pointer field, a slice of pointers), which fmt prints as an address while the
// JSON handler writes what it points to, is cut too.
// Guards against: handler.go:printed judging a value by fmt's form alone
func TestHandlerCutsSecretBehindPointer(t *testing.T) {
	const secret = "brk_run_AbCdEf0123456789-_xyz"
	type token struct{ Value string }
	type run struct {
		ID    string
		Token *token
	}
	var out bytes.Buffer
	log := slog.New(NewHandler(logging.NewJSONHandler(&out)))
	log.Info("run", "run", run{ID: "r1", Token: &token{Value: secret}})
	log.Info("runs", "runs", []*token{{Value: secret}})
	if got := out.String(); strings.Contains(got, strings.TrimPrefix(secret, Prefix)) {
		t.Errorf("a line carries the secret:\n%s", got)
	}
}
