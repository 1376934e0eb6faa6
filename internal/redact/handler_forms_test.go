package redact

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/logging"
)

// labelled is a value whose String shows a label only, as a type gets by embedding one
// with a String method (catalog.Ref, say) beside other fields.
type labelled struct {
	Name  string
	Token string
}

func (p labelled) String() string { return "labelled " + p.Name }

// jsonError is an error whose JSON form (which the JSON handler writes) is not its text.
type jsonError struct{ Token string }

func (e jsonError) Error() string                { return "refused" }
func (e jsonError) MarshalJSON() ([]byte, error) { return []byte(`{"token":"` + e.Token + `"}`), nil }

// TestHandlerJudgesTheFormsHandlersWrite: slog's JSON handler writes a non-error value's JSON
// encoding (not its String) and a json.Marshaler error's MarshalJSON (not its Error); a secret
// those forms hold is cut as any other.
// Guards against: handler.go printed judging a Stringer by String() and an error by Error() alone.
func TestHandlerJudgesTheFormsHandlersWrite(t *testing.T) {
	const secret = "brk_run_AbCdEf0123456789-_xyz"
	for name, v := range map[string]any{
		"a Stringer":                labelled{Name: "x", Token: secret},
		"an error with MarshalJSON": jsonError{Token: secret},
	} {
		var out bytes.Buffer
		slog.New(NewHandler(logging.NewJSONHandler(&out))).Info("m", "v", v)
		if strings.Contains(out.String(), strings.TrimPrefix(secret, Prefix)) {
			t.Errorf("%s: the JSON line carries the secret: %s", name, strings.TrimSpace(out.String()))
		}
	}
}
