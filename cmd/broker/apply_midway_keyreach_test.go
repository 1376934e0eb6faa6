package main

import (
	"net/http"
	"testing"
)

// midRunnerKey creates, with the admin key, a key holding run:create, run:read and
// run:update on space other, and returns its secret.
func midRunnerKey(t *testing.T, b *liveBroker) string {
	t.Helper()
	b.put(t, "/v1/roles/runner", `{"actions":["run:create","run:read","run:update"]}`)
	return boundKey(t, b, "runner@other")
}

// midReaches reports whether the key secret may read stack vpc.
func midReaches(t *testing.T, b *liveBroker, secret string) bool {
	req, _ := http.NewRequest(http.MethodGet, b.url+"/v1/stacks/vpc", nil)
	req.Header.Set("Authorization", "Bearer "+secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Error(err)
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// TestApplyGivesNoKeyAStackMidApply checks that a file moving stack vpc (or the space sub
// holding it) out of space team and team under space other, where a key holds run rights, never
// lets that key reach vpc: neither before the apply (vpc under prod) nor after it (vpc under
// prod, team under other) does the key cover vpc, so it must not meanwhile either (it could
// start a run of vpc and take its tokens).
func TestApplyGivesNoKeyAStackMidApply(t *testing.T) {
	cases := []struct{ name, home, file string }{
		{"stack moved out", "team",
			"spaces:\n  - {id: team, parent: other}\nstacks:\n  - {id: vpc, space: prod}\n"},
		{"space moved out", "sub",
			"spaces:\n  - {id: team, parent: other}\n  - {id: sub, parent: prod}\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := startLive(t, liveFile(""))
			b.put(t, "/v1/spaces/prod", `{"parent":"root"}`)
			b.put(t, "/v1/spaces/other", `{"parent":"root"}`)
			b.put(t, "/v1/spaces/team", `{"parent":"prod"}`)
			b.put(t, "/v1/spaces/sub", `{"parent":"team"}`)
			b.put(t, "/v1/stacks/vpc", `{"space":"`+tc.home+`","labels":[]}`)
			runner := midRunnerKey(t, b)
			if midReaches(t, b, runner) {
				t.Fatal("set-up: the runner key reaches vpc before apply")
			}
			for _, s := range midApplyWatchKey(t, b, midKeyApply{runner, tc.file}) {
				t.Errorf("the runner key reached vpc mid-apply: %s", s)
			}
			if midReaches(t, b, runner) {
				t.Error("the runner key reaches vpc after apply")
			}
		})
	}
}

// midKeyApply is a file to apply and the secret of the key to watch meanwhile.
type midKeyApply struct{ secret, file string }

// midApplyWatchKey applies ka.file with the admin key, noting before each PUT whether the key
// ka.secret reaches stack vpc; apply must succeed.
func midApplyWatchKey(t *testing.T, b *liveBroker, ka midKeyApply) []string {
	t.Helper()
	seen, r := applyWatched(t, b, watchedApply{file: ka.file, bad: reachesVPC(t, b, ka.secret)})
	if r.code != 0 {
		t.Fatalf("apply: %+v", r)
	}
	return seen
}

// reachesVPC says, when the key secret may read stack vpc, that it does.
func reachesVPC(t *testing.T, b *liveBroker, secret string) func() string {
	return func() string {
		if midReaches(t, b, secret) {
			return "the key reaches vpc"
		}
		return ""
	}
}
