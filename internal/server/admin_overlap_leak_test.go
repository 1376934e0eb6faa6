package server

import (
	"strings"
	"testing"
)

// TestAdminOverlapRefusalHidesOtherSpace: team-a's admin putting a subject template that
// overlaps the one of a space in team-b, which it holds no binding on, is refused with 400 on
// subjectTemplate saying the template overlaps another space's, and the answer quotes neither
// that space's id, nor its template, nor an example sub made from it; whichever of the two
// spaces comes first in the list. The server log keeps the full detail for the operators.
func TestAdminOverlapRefusalHidesOtherSpace(t *testing.T) {
	ts := startServer(t, serverOptions{baseYAML: adminConfig})
	const (
		// secretTemplate is b-priv's: its literal "bprivate" is in no template team-a's key
		// sends, so any "bprivate" in an answer comes from team-b's space.
		secretTemplate = "bprivate:{callerId}:q:{scope}"
		// overlapping gives b-priv's subs when {spaceId} is "bprivate".
		overlapping = "{spaceId}:{callerId}:q:{scope}"
	)
	// a-early lies before b-priv in the list, so the overlap is found on b-priv; a-late after it.
	ts.admin(t, "PUT", "/v1/spaces/a-early", `{"parent":"team-a","subjectTemplate":"aearly:{callerId}:q:{scope}"}`).expect(t, "a-early", 201)
	ts.admin(t, "PUT", "/v1/spaces/b-priv", `{"parent":"team-b","subjectTemplate":"`+secretTemplate+`"}`).expect(t, "b-priv", 201)

	cases := []struct{ name, path string }{
		{"existing space before the other", "/v1/spaces/a-early"},
		{"new space after the other", "/v1/spaces/a-late"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var ans envelope
			code := ts.call(t, apiRequest{method: "PUT", path: tc.path, bearer: hereSecret,
				body: `{"parent":"team-a","subjectTemplate":"` + overlapping + `"}`, out: &ans})
			msg := ans.Error.Message
			if code != 400 {
				t.Fatalf("status %d, want 400: %s", code, msg)
			}
			for _, want := range []string{`"subjectTemplate"`, "overlaps another space's"} {
				if !strings.Contains(msg, want) {
					t.Errorf("answer does not hold %s: %s", want, msg)
				}
			}
			for _, leak := range []string{"bprivate", "b-priv", "team-b", "spaces["} {
				if strings.Contains(msg, leak) {
					t.Errorf("answer to team-a's admin quotes %q of team-b's space: %s", leak, msg)
				}
			}
		})
	}
	if !strings.Contains(ts.Logs.String(), `bprivate:{callerId}:q:{scope}`) {
		t.Errorf("the server log does not hold the refused overlap in full:\n%s", ts.Logs.String())
	}
	var got struct {
		Space struct{ SubjectTemplate string } `json:"space"`
	}
	ts.call(t, apiRequest{method: "GET", path: "/v1/spaces/a-early", bearer: hereSecret, out: &got})
	if got.Space.SubjectTemplate != "aearly:{callerId}:q:{scope}" {
		t.Errorf("a-early's template after the refusals = %q", got.Space.SubjectTemplate)
	}
}
