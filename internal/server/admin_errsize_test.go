package server

import (
	"fmt"
	"strings"
	"testing"
)

// TestAdminErrorMessageBounded: a body with thousands of problems (unknown keys, bad labels) is
// answered 400 with a message naming the first few and how many more there are, not one that
// lists every problem.
func TestAdminErrorMessageBounded(t *testing.T) {
	ts := startServer(t, serverOptions{baseYAML: adminConfig})
	var keys, labels []string
	for i := range 5000 {
		keys = append(keys, fmt.Sprintf(`"k%d":1`, i))
		labels = append(labels, fmt.Sprintf(`"L%d"`, i))
	}
	for _, c := range []struct{ name, path, body, more string }{
		{"unknown keys", "/v1/spaces/many-e", "{" + strings.Join(keys, ",") + "}", "and 4990 more"},
		{"bad labels", "/v1/stacks/many-e", `{"space":"team-a","labels":[` + strings.Join(labels, ",") + `]}`, ""},
	} {
		var env struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		code := ts.call(t, apiRequest{method: "PUT", path: c.path, bearer: rootAdminSecret, body: c.body, out: &env})
		if code != 400 || len(env.Error.Message) > 2<<10 || !strings.Contains(env.Error.Message, c.more) {
			t.Errorf("%s: %d with a %d-byte message to a %d-byte body, want 400 with a short one saying %q: %.200s…",
				c.name, code, len(env.Error.Message), len(c.body), c.more, env.Error.Message)
		}
	}
}
