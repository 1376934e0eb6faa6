package main

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
)

// TestApplyByABoundKeyGivesNoKeyAStackMidApply is TestApplyGivesNoKeyAStackMidApply with
// the tree under space base and the file applied by a key bound on base (not on root): the
// order that keeps the runner key (bound on other) from reaching vpc must not depend on the
// applying key reading the ancestors of base, which the file cannot change anyway.
func TestApplyByABoundKeyGivesNoKeyAStackMidApply(t *testing.T) {
	cases := []struct{ name, home, file string }{
		{"stack moved out", "team",
			"spaces:\n  - {id: team, parent: other}\nstacks:\n  - {id: vpc, space: prod}\n"},
		{"space moved out", "sub",
			"spaces:\n  - {id: team, parent: other}\n  - {id: sub, parent: prod}\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := startLive(t, liveFile(""))
			b.put(t, "/v1/spaces/prod", `{"parent":"base"}`)
			b.put(t, "/v1/spaces/other", `{"parent":"base"}`)
			b.put(t, "/v1/spaces/team", `{"parent":"prod"}`)
			b.put(t, "/v1/spaces/sub", `{"parent":"team"}`)
			b.put(t, "/v1/stacks/vpc", `{"space":"`+tc.home+`","labels":[]}`)
			runner := midRunnerKey(t, b)
			if midReaches(t, b, runner) {
				t.Fatal("set-up: the runner key reaches vpc before apply")
			}
			for _, s := range orderWatchAs(t, b, midKeyApply{runner, tc.file}) {
				t.Errorf("the runner key reached vpc mid-apply: %s", s)
			}
			if midReaches(t, b, runner) {
				t.Error("the runner key reaches vpc after apply")
			}
		})
	}
}

// orderWatchAs applies ka.file with the key bound on base, noting before each PUT whether the
// key ka.secret reaches stack vpc; apply must succeed.
func orderWatchAs(t *testing.T, b *liveBroker, ka midKeyApply) []string {
	t.Helper()
	seen, r := applyWatched(t, b, watchedApply{file: ka.file, key: liveBaseKey, bad: reachesVPC(t, b, ka.secret)})
	if r.code != 0 {
		t.Fatalf("apply: %+v", r)
	}
	return seen
}

// orderCfgRole is the AWS role of the server file's integration cfg-w.
const orderCfgRole = `{role_arn: "arn:aws:iam::123456789012:role/w"}`

// TestApplyGrantsNoWriteThroughAConfigObject: when the file takes write away through
// an object the broker's own configuration file declares (which the apply cannot change),
// the apply must not go on to add what that write then reaches: neither the broker before
// the apply nor the file grants stack vpc write, so vpc must hold none during or after it.
func TestApplyGrantsNoWriteThroughAConfigObject(t *testing.T) {
	cases := []struct {
		name, server, file string
		setUp              func(*testing.T, *liveBroker)
	}{
		{"config integration losing write, stack labelled",
			"integrations:\n  - {id: cfg-w, space: base, aws: " + orderCfgRole +
				", autoattach: [{label: net, write: true}]}\n",
			"stacks:\n  - {id: vpc, space: base, labels: [net]}\n" +
				"integrations:\n  - {id: cfg-w, space: base, aws: " + orderCfgRole +
				", autoattach: [{label: net, read: true}]}\n", orderUnlabelledVPC},
		{"config stack losing a label, integration gaining write on it",
			"stacks:\n  - {id: vpc, space: base, labels: [net]}\n",
			"stacks:\n  - {id: vpc, space: base, labels: []}\n" +
				"integrations:\n  - {id: api-w, space: base, aws: " + orderCfgRole +
				", autoattach: [{label: net, write: true}]}\n", func(*testing.T, *liveBroker) {}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := startLive(t, liveFile(tc.server))
			tc.setUp(t, b)
			if got := vPCWrites(t, b); got != "" {
				t.Fatalf("set-up: vpc holds a write attachment before apply: %s", got)
			}
			seen, r := midApplyWatch(t, b, tc.file)
			for _, s := range seen {
				t.Errorf("vpc held a write attachment mid-apply: %s", s)
			}
			if got := vPCWrites(t, b); got != "" {
				t.Errorf("vpc holds a write attachment after apply (exit %d): %s\n%s%s",
					r.code, got, r.stdout, r.stderr)
			}
		})
	}
}

// orderUnlabelledVPC gives b stack vpc in space base with no label.
func orderUnlabelledVPC(t *testing.T, b *liveBroker) {
	b.put(t, "/v1/stacks/vpc", `{"space":"base","labels":[]}`)
}

// TestApplyDropsWriteOnlyDirectWriteBeforeAMove is TestApplyDropsDirectWriteBeforeAMove
// with a direct attachment held for write only: a file that moves vpc from a to b and makes
// the attachment read only never lets a key bound on b start a run of vpc while vpc is
// attached for write (before the apply vpc is out of b, after it vpc is attached for read).
func TestApplyDropsWriteOnlyDirectWriteBeforeAMove(t *testing.T) {
	b := startLive(t, liveFile(""))
	b.put(t, "/v1/spaces/prod", `{"parent":"root"}`)
	b.put(t, "/v1/spaces/a", `{"parent":"prod","inherit":true}`)
	b.put(t, "/v1/spaces/b", `{"parent":"prod","inherit":true}`)
	b.put(t, "/v1/stacks/vpc", `{"space":"a","labels":[]}`)
	b.put(t, "/v1/integrations/prod-w", `{"space":"prod","aws":{"roleArn":`+
		`"arn:aws:iam::123456789012:role/w"}}`)
	b.put(t, "/v1/stacks/vpc/attachments/prod-w", `{"read":false,"write":true}`)
	b.put(t, "/v1/roles/runner", `{"actions":["run:create","run:read"]}`)
	key := boundKey(t, b, "runner@b")
	file := "stacks:\n  - {id: vpc, space: b, labels: []}\n" +
		"attachments:\n  - {stack: vpc, integration: prod-w, read: true, write: false}\n"
	seen, r := orderWatch(t, b, file, func() string {
		if got := vPCWrites(t, b); got != "" && midStartsRun(t, b, key) {
			return "a key bound on b started a run of vpc attached for write: " + got
		}
		return ""
	})
	if r.code != 0 {
		t.Fatalf("apply: %+v", r)
	}
	for _, s := range seen {
		t.Errorf("mid-apply: %s", s)
	}
}

// TestApplyStopReportsWhatItNarrowed: when the narrowing pass stops on a failure after
// it has already taken write away from another object, apply's output names that object: the
// operator is told "the apply stopped before changing anything else", so every object it did
// change must have been reported.
func TestApplyStopReportsWhatItNarrowed(t *testing.T) {
	b := startLive(t, liveFile(""))
	b.put(t, "/v1/spaces/prod", `{"parent":"root"}`)
	for _, id := range []string{"one-w", "two-w"} {
		b.put(t, "/v1/integrations/"+id, `{"space":"prod","aws":{"roleArn":`+
			`"arn:aws:iam::123456789012:role/w"},"autoattach":[{"label":"net","write":true}]}`)
	}
	file := "integrations:\n" +
		"  - {id: one-w, space: prod, aws: " + midRoleW + ", autoattach: [{label: net, read: true}]}\n" +
		"  - {id: two-w, space: prod, aws: " + midRoleW + ", autoattach: [{label: net, read: true}]}\n"
	target, err := url.Parse(b.url)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut && r.URL.Path == "/v1/integrations/two-w" {
			http.Error(w, `{"error":"unavailable"}`, http.StatusServiceUnavailable)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	defer ts.Close()
	vars := map[string]string{"BROKER_URL": ts.URL, "BROKER_API_KEY": liveAdmin}
	r := runCLI(vars, "apply", "-f", writeFile(t, "file.yaml", file))
	if r.code == 0 {
		t.Fatalf("set-up: apply succeeded: %+v", r)
	}
	if !strings.Contains(orderGet(t, b, "/v1/integrations/one-w"), `"version":2`) {
		t.Fatalf("set-up: one-w was not narrowed: %s", orderGet(t, b, "/v1/integrations/one-w"))
	}
	if !strings.Contains(r.stdout, "integration/one-w") {
		t.Errorf("apply changed integration/one-w but never said so:\n%s%s", r.stdout, r.stderr)
	}
}

// TestApplyMovesAStackIntoANewSpaceFirst: a stack that the file moves out of a space it
// changes (moved under another key's binding, or given a new subject template) into a space
// the file creates must leave before that change, as it does when its new space already
// exists: creating the new space first grants nothing. Otherwise vpc is meanwhile reachable by
// the key bound on other, or gets tokens whose subject carries team's new template, which
// neither the broker before the apply nor the file gives it.
func TestApplyMovesAStackIntoANewSpaceFirst(t *testing.T) {
	cases := []struct{ name, file string }{
		{"source moved under a binding",
			"spaces:\n  - {id: fresh, parent: prod}\n  - {id: team, parent: other}\n" +
				"stacks:\n  - {id: vpc, space: fresh}\n"},
		{"source given a new template",
			"spaces:\n  - {id: fresh, parent: prod}\n" +
				"  - {id: team, parent: prod, subject_template: \"t-new:{callerId}:{scope}\"}\n" +
				"stacks:\n  - {id: vpc, space: fresh}\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := startLive(t, liveFile(""))
			b.put(t, "/v1/spaces/prod", `{"parent":"root"}`)
			b.put(t, "/v1/spaces/other", `{"parent":"root"}`)
			b.put(t, "/v1/spaces/team", `{"parent":"prod"}`)
			b.put(t, "/v1/stacks/vpc", `{"space":"team","labels":[]}`)
			runner := midRunnerKey(t, b)
			seen, r := orderWatch(t, b, tc.file, func() string {
				if midReaches(t, b, runner) {
					return "the runner key bound on other reaches vpc"
				}
				inTeam := strings.Contains(orderGet(t, b, "/v1/stacks/vpc"), `"space":"team"`)
				if inTeam && strings.Contains(orderGet(t, b, "/v1/spaces/team"), "t-new") {
					return "vpc is in team under team's new subject template"
				}
				return ""
			})
			if r.code != 0 {
				t.Fatalf("apply: %+v", r)
			}
			for _, s := range seen {
				t.Errorf("mid-apply: %s", s)
			}
		})
	}
}
