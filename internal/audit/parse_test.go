package audit

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestParseEvent: an event as the API lists it (encoding/json of Event) reads back equal, with
// escapes read as JSON reads them; anything a plain decode would drop or merge is refused.
func TestParseEvent(t *testing.T) {
	e := Event{ID: "01JAAAAAAAAAAAAAAAAAAAAAAA", Time: "2026-12-05T10:00:00Z", Actor: "api_key:ci", Action: "run.create",
		Space: "prod", Stack: "vpc-prod", Run: "01JBBBBBBBBBBBBBBBBBBBBBBB", Outcome: Success, Detail: "a \"quoted\" <tag> é\n", Prev: "ab"}
	raw, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseEvent(raw)
	if err != nil || got != e {
		t.Fatalf("ParseEvent(%s) = %+v, %v; want %+v", raw, got, err, e)
	}
	valid := string(raw)
	tests := []struct{ name, raw, want string }{
		{"an unknown member", strings.Replace(valid, `{`, `{"note":"x",`, 1), `member "note"`},
		{"a member in another case", strings.Replace(valid, `"actor"`, `"Actor"`, 1), `member "Actor"`},
		{"a member twice", strings.Replace(valid, `{`, `{"detail":"x",`, 1), `"detail" twice`},
		{"a member left out", strings.Replace(valid, `"run":"01JBBBBBBBBBBBBBBBBBBBBBBB",`, ``, 1), `no member "run"`},
		{"a number", strings.Replace(valid, `"prev":"ab"`, `"prev":1`, 1), `"prev" is not a string`},
		{"null", strings.Replace(valid, `"prev":"ab"`, `"prev":null`, 1), `"prev" is not a string`},
		{"an object", strings.Replace(valid, `"prev":"ab"`, `"prev":{}`, 1), `"prev" is not a string`},
		{"an array", `[` + valid + `]`, "not a JSON object"},
		{"more JSON after it", valid + `{}`, "followed by more JSON"},
		{"cut short", valid[:len(valid)-1], "not valid JSON"},
		{"empty", ``, "not a JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ParseEvent([]byte(tt.raw)); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ParseEvent(%s) = %v, want an error with %q", tt.raw, err, tt.want)
			}
		})
	}
}
