package redact

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/logging"
)

// TestHandlerWritesACutValueOnce: a value holding a secret is written once, as its JSON form
// with the secret cut, not as its JSON and fmt forms side by side; a secret only fmt would show
// (an unexported field) is not written either.
// Guards against: handler.go attr writing printed's two forms joined.
func TestHandlerWritesACutValueOnce(t *testing.T) {
	const secret = "brk_run_AbCdEf0123456789-_xyz"
	type run struct {
		ID    string
		Token string
	}
	type hidden struct {
		ID    string
		token string
	}
	for _, tc := range []struct {
		name  string
		value any
		want  string
	}{
		{"an exported field", run{ID: "run-7", Token: secret}, `"run":"{\"ID\":\"run-7\",\"Token\":\"` + Secrets(secret) + `\"}"`},
		{"an unexported field", hidden{ID: "run-7", token: secret}, `"run":"{\"ID\":\"run-7\"}"`},
	} {
		var out bytes.Buffer
		slog.New(NewHandler(logging.NewJSONHandler(&out))).Info("run", "run", tc.value)
		got := out.String()
		if strings.Contains(got, strings.TrimPrefix(secret, Prefix)) {
			t.Errorf("%s: the line carries the secret:\n%s", tc.name, got)
		}
		if strings.Count(got, "run-7") != 1 || !strings.Contains(got, tc.want) {
			t.Errorf("%s: line %s, want the value once, as %s", tc.name, got, tc.want)
		}
	}
}
