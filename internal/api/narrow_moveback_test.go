package api

import (
	"net/http"
	"testing"

	"github.com/brokerhq/broker/internal/config"
)

// TestMovingARecordedSpaceBackTakesTheRightsWhereItWas: a stack in space x (under team-b)
// was attached for write to role w, so the store records w at root/prod/team-b/x. Key k holds
// space:admin on prod and the run rights on team-a only. It deletes the write attachment; an
// administrator moves x under team-a; k puts a stack labelled rl in x and an integration of role
// w in team-b with a read rule on rl; moving x back under team-b then brings the read pair s ->
// w, and takes the run rights where the record stood before the move (team-b), which k lacks.
// Guards against: admin_write.go:newReadIntoWriteSpaces resolving the records only in the
// catalog after the change, while the rights are asked in the one before it
func TestMovingARecordedSpaceBackTakesTheRightsWhereItWas(t *testing.T) {
	f := adminTestFile()
	f.APIKeys = append(f.APIKeys, adminTestKey("k",
		config.Binding{Role: "admin", Space: "prod"}, config.Binding{Role: "all", Space: "team-a"}))
	e := newAdminEnv(t, f, &keptEvents{})
	step := func(key, method, path, body string, want int) {
		t.Helper()
		var code int
		var out string
		if method == "DELETE" {
			w := e.del(key, path)
			code, out = w.Code, w.Body.String()
		} else {
			w := e.put(key, path, body)
			code, out = w.Code, w.Body.String()
		}
		if code != want {
			t.Fatalf("%s %s %s by %s: %d %s, want %d", method, path, body, key, code, out, want)
		}
	}
	step("boss", "PUT", "/v1/spaces/x", `{"parent":"team-b","inherit":true}`, http.StatusCreated)
	step("boss", "PUT", "/v1/stacks/t", `{"space":"x"}`, http.StatusCreated)
	step("boss", "PUT", "/v1/integrations/aws-w", `{"space":"team-b","aws":{"roleArn":"arn:aws:iam::123456789012:role/w"}}`, http.StatusCreated)
	step("boss", "PUT", "/v1/stacks/t/attachments/aws-w", `{"write":true}`, http.StatusCreated)

	step("k", "DELETE", "/v1/stacks/t/attachments/aws-w", "", http.StatusNoContent)
	// An administrator reorganises: x goes under team-a (k may not move it there itself).
	step("boss", "PUT", "/v1/spaces/x", `{"parent":"team-a","inherit":true}`, http.StatusOK)
	step("k", "PUT", "/v1/stacks/s", `{"space":"x","labels":["rl"]}`, http.StatusCreated)
	step("k", "PUT", "/v1/integrations/aws-w2", `{"space":"team-b","aws":{"roleArn":"arn:aws:iam::123456789012:role/w"},"autoattach":[{"label":"rl","read":true}]}`, http.StatusCreated)
	// With x under team-a the record stands for team-b, where k lacks the run rights; moving x
	// back brings the read pair s -> w, and the record then stands for x, asked in the catalog
	// before the move (x under team-a, where k holds them).
	w := e.put("k", "/v1/spaces/x", `{"parent":"team-b","inherit":true}`)
	if w.Code != http.StatusForbidden {
		t.Errorf("k moving x back under team-b, letting read tokens of s reach role w (written at team-b/x, where k lacks run rights): %d %s, want 403", w.Code, w.Body)
	}
}
