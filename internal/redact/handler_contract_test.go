package redact

import (
	"bytes"
	"encoding/json"
	"testing"
	"testing/slogtest"

	"github.com/brokerhq/broker/internal/logging"
)

// TestHandlerSlogContract: the cutting handler is a slog.Handler: wrapped around the server's
// JSON handler, it passes slog's own handler contract suite (attributes, groups, WithAttrs,
// WithGroup, empty groups and keys, resolved values, the zero time).
func TestHandlerSlogContract(t *testing.T) {
	var buf bytes.Buffer
	results := func() []map[string]any {
		var ms []map[string]any
		for _, line := range bytes.Split(buf.Bytes(), []byte{'\n'}) {
			if len(line) == 0 {
				continue
			}
			var m map[string]any
			if err := json.Unmarshal(line, &m); err != nil {
				t.Fatal(err)
			}
			ms = append(ms, m)
		}
		return ms
	}
	if err := slogtest.TestHandler(NewHandler(logging.NewJSONHandler(&buf)), results); err != nil {
		t.Error(err)
	}
}
