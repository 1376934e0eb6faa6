package audit_test

import (
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/audit"
)

// TestParseEventRefusesNonStringMembers: every member of an event must be a JSON string;
// a number, null, boolean, array or object in any member, detail included, is an error.
// Guards against: parse.go:non-string value accepted for detail
func TestParseEventRefusesNonStringMembers(t *testing.T) {
	if _, err := audit.ParseEvent([]byte(eventJSONWith("detail", `"d"`))); err != nil {
		t.Fatalf("valid event: %v", err)
	}
	for _, member := range []string{"detail", "id", "prev"} {
		for _, value := range []string{`5`, `null`, `true`, `[]`, `{}`} {
			raw := eventJSONWith(member, value)
			if _, err := audit.ParseEvent([]byte(raw)); err == nil {
				t.Errorf("ParseEvent(%s) accepted a non-string %s", raw, member)
			}
		}
	}
}

// eventJSONWith is an event's JSON with each of its eleven members a string, but member, whose
// value is the raw JSON value.
func eventJSONWith(member, value string) string {
	names := []string{"id", "time", "actor", "action", "space", "stack", "run", "integration", "outcome", "detail", "prev"}
	parts := make([]string, len(names))
	for i, n := range names {
		v := `"` + n + `-value"`
		if n == member {
			v = value
		}
		parts[i] = `"` + n + `":` + v
	}
	return "{" + strings.Join(parts, ",") + "}"
}
