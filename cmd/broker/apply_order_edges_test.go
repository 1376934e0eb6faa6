package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// orderGet reads path from b with the admin key and returns the body.
func orderGet(t *testing.T, b *liveBroker, path string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.url+path, nil)
	req.Header.Set("Authorization", "Bearer "+liveAdmin)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return string(body)
}

// TestApplyReportsWhatItNarrowed: apply prints "changed" for an object it changed, and
// never "no changes" when it changed something; an object whose file form only takes
// something away is changed by the narrowing pass, not left as it was.
func TestApplyReportsWhatItNarrowed(t *testing.T) {
	cases := []struct {
		name, ref, file string
		setUp           func(*testing.T, *liveBroker)
	}{
		{"stack dropping a label", "stack/vpc",
			"stacks:\n  - {id: vpc, space: prod, labels: [net]}\n",
			func(t *testing.T, b *liveBroker) {
				b.put(t, "/v1/spaces/prod", `{"parent":"root"}`)
				b.put(t, "/v1/stacks/vpc", `{"space":"prod","labels":["net","blue"]}`)
			}},
		{"role dropping an action", "role/runner",
			"roles:\n  - {id: runner, actions: [run:read]}\n",
			func(t *testing.T, b *liveBroker) {
				b.put(t, "/v1/roles/runner", `{"actions":["run:read","run:create"]}`)
			}},
		{"integration dropping write", "integration/prod-w",
			"integrations:\n  - {id: prod-w, space: prod, aws: " + midRoleW +
				", autoattach: [{label: net, read: true}]}\n",
			func(t *testing.T, b *liveBroker) {
				b.put(t, "/v1/spaces/prod", `{"parent":"root"}`)
				b.put(t, "/v1/integrations/prod-w", `{"space":"prod","aws":{"roleArn":`+
					`"arn:aws:iam::123456789012:role/w"},"autoattach":`+
					`[{"label":"net","read":true,"write":true}]}`)
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := startLive(t, liveFile(""))
			tc.setUp(t, b)
			n := b.writeCount()
			r := b.cli(t, liveAdmin, "apply", "-f", writeFile(t, "f.yaml", tc.file))
			if len(b.writesSince(n)) == 0 {
				t.Fatalf("set-up: apply changed nothing: %+v", r)
			}
			if !strings.Contains(r.stdout, tc.ref+" changed") ||
				strings.Contains(r.stdout, "no changes") {
				t.Errorf("apply changed %s but says otherwise:\n%s", tc.ref, r.stdout)
			}
		})
	}
}

// TestApplyNarrowsARoleLosingAllItsActions: a file that swaps a role's only action
// (run:create for run:read) and moves space team (holding stack vpc) under the space the
// role's key is bound on never lets that key start a run of vpc. No order is safe (the old
// action held after the move, or the new one before it), so the apply refuses the file and
// changes nothing, saying to apply the role on its own.
func TestApplyNarrowsARoleLosingAllItsActions(t *testing.T) {
	b := startLive(t, liveFile(""))
	b.put(t, "/v1/spaces/prod", `{"parent":"root"}`)
	b.put(t, "/v1/spaces/other", `{"parent":"root"}`)
	b.put(t, "/v1/spaces/team", `{"parent":"other"}`)
	b.put(t, "/v1/stacks/vpc", `{"space":"team","labels":[]}`)
	b.put(t, "/v1/roles/runner", `{"actions":["run:create"]}`)
	key := boundKey(t, b, "runner@prod")
	if midStartsRun(t, b, key) {
		t.Fatal("set-up: the key starts a run of vpc before apply")
	}
	file := "roles:\n  - {id: runner, actions: [run:read]}\n" +
		"spaces:\n  - {id: team, parent: prod}\n"
	seen, r := orderWatch(t, b, file, func() string {
		if midStartsRun(t, b, key) {
			return "the key started a run of vpc"
		}
		return ""
	})
	for _, s := range seen {
		t.Errorf("mid-apply: %s", s)
	}
	// No order is safe: the apply refuses it, changing nothing.
	if r.code != 1 || !strings.Contains(r.stderr, "apply the role in a file of its own") {
		t.Errorf("apply replacing every action of a role while moving a space: %+v", r)
	}
	if got := orderGet(t, b, "/v1/spaces/team"); !strings.Contains(got, `"parent":"other"`) {
		t.Errorf("the refused apply changed space team: %s", got)
	}
}

// TestApplyDropsDirectWriteBeforeAMove: a file that moves stack vpc from space a to
// space b and turns its direct attachment's write off never lets a key bound on b start a
// run of vpc while vpc is attached for write: before the apply vpc is out of b, after it vpc
// is attached for read only.
func TestApplyDropsDirectWriteBeforeAMove(t *testing.T) {
	b := startLive(t, liveFile(""))
	b.put(t, "/v1/spaces/prod", `{"parent":"root"}`)
	b.put(t, "/v1/spaces/a", `{"parent":"prod","inherit":true}`)
	b.put(t, "/v1/spaces/b", `{"parent":"prod","inherit":true}`)
	b.put(t, "/v1/stacks/vpc", `{"space":"a","labels":[]}`)
	b.put(t, "/v1/integrations/prod-w", `{"space":"prod","aws":{"roleArn":`+
		`"arn:aws:iam::123456789012:role/w"}}`)
	b.put(t, "/v1/stacks/vpc/attachments/prod-w", `{"read":true,"write":true}`)
	b.put(t, "/v1/roles/runner", `{"actions":["run:create","run:read"]}`)
	key := boundKey(t, b, "runner@b")
	file := "spaces:\n  - {id: prod, parent: root}\n" +
		"stacks:\n  - {id: vpc, space: b, labels: []}\n" +
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

// TestApplyLeavesFileObjectsToTheMainPass: an object the broker's configuration file declares
// and that the applied file changes without taking anything away is refused on its own, and the
// file's other objects are still applied; one the applied file takes labels or write away from
// cannot be narrowed first, so the apply changes nothing rather than add, beside it, what it
// would reach.
func TestApplyLeavesFileObjectsToTheMainPass(t *testing.T) {
	for _, tc := range []struct {
		name, labels string
		applied      bool
	}{
		{"a label added", "[a, b, c]", true},
		{"a label taken away", "[a]", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := startLive(t, liveFile("stacks:\n  - {id: fs, space: base, labels: [a, b]}\n"))
			file := "spaces:\n  - {id: x, parent: root}\n" +
				"stacks:\n  - {id: fs, space: base, labels: " + tc.labels + "}\n"
			r := b.cli(t, liveAdmin, "apply", "-f", writeFile(t, "f.yaml", file))
			if r.code != 1 {
				t.Errorf("apply changing a stack of the server's file: exit %d, want 1", r.code)
			}
			if got := strings.Contains(r.stdout, "space/x created"); got != tc.applied {
				t.Errorf("space x applied %v, want %v:\n%s%s", got, tc.applied, r.stdout, r.stderr)
			}
		})
	}
}

// TestApplyKeepsAStackWhoseMoveFails: a stack whose move the broker refuses stays as the
// broker held it (or becomes the file's): apply leaves no stack in a state neither grants.
func TestApplyKeepsAStackWhoseMoveFails(t *testing.T) {
	b := startLive(t, liveFile(""))
	b.put(t, "/v1/spaces/prod", `{"parent":"root"}`)
	b.put(t, "/v1/stacks/vpc", `{"space":"prod","labels":["net"]}`)
	file := "stacks:\n  - {id: vpc, space: nowhere, labels: [net]}\n"
	r := b.cli(t, liveAdmin, "apply", "-f", writeFile(t, "f.yaml", file))
	if r.code == 0 {
		t.Fatalf("set-up: the move into a missing space succeeded: %+v", r)
	}
	if got := orderGet(t, b, "/v1/stacks/vpc"); !strings.Contains(got, `"net"`) {
		t.Errorf("vpc lost its labels in a failed move: %s\n%s", got, r.stdout)
	}
}

// orderSetUpAB gives b space prod, spaces a and b under it (inheriting), stack vpc in a,
// integration prod-w in prod attached to nothing, and role runner with run:read only.
func orderSetUpAB(t *testing.T, b *liveBroker) {
	t.Helper()
	b.put(t, "/v1/spaces/prod", `{"parent":"root"}`)
	b.put(t, "/v1/spaces/a", `{"parent":"prod","inherit":true}`)
	b.put(t, "/v1/spaces/b", `{"parent":"prod","inherit":true}`)
	b.put(t, "/v1/stacks/vpc", `{"space":"a","labels":[]}`)
	b.put(t, "/v1/integrations/prod-w", `{"space":"prod","aws":{"roleArn":`+
		`"arn:aws:iam::123456789012:role/w"}}`)
	b.put(t, "/v1/roles/runner", `{"actions":["run:read"]}`)
}

// TestApplyMovesAStackBeforeWhatItGains: in a file with no space, a stack moving from a
// to b still moves before the role and the attachment the file widens for it: a key bound on a
// never starts a run of vpc (before the apply its role lacks run:create, after it vpc is in b)
// and never a run of vpc attached for write (before the apply vpc has no write attachment,
// after it vpc is out of a).
func TestApplyMovesAStackBeforeWhatItGains(t *testing.T) {
	cases := []struct{ name, file, role string }{
		{"role gaining run:create",
			"roles:\n  - {id: runner, actions: [run:read, run:create]}\n" +
				"stacks:\n  - {id: vpc, space: b, labels: []}\n", "run:read"},
		{"attachment gaining write",
			"stacks:\n  - {id: vpc, space: b, labels: []}\n" +
				"attachments:\n  - {stack: vpc, integration: prod-w, write: true}\n",
			"run:read\",\"run:create"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := startLive(t, liveFile(""))
			orderSetUpAB(t, b)
			b.put(t, "/v1/roles/runner", `{"actions":["`+tc.role+`"]}`)
			key := boundKey(t, b, "runner@a")
			seen, r := orderWatch(t, b, tc.file, func() string {
				if midStartsRun(t, b, key) && (tc.role == "run:read" || vPCWrites(t, b) != "") {
					return "a key bound on a started a run of vpc"
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

// TestApplyStopsWhenItCannotReadWhatToNarrow: when the broker fails the read that tells
// apply what the file takes away from an integration (503, a store outage), apply does not go
// on as if there were nothing to take away: vpc, attached to nothing for write before the apply
// and under the file, holds no write attachment after it.
func TestApplyStopsWhenItCannotReadWhatToNarrow(t *testing.T) {
	b := startLive(t, liveFile(""))
	midSetUpOther(t, b)
	file := midTeamInherits + "integrations:\n  - {id: prod-w, space: prod, aws: " + midRoleW +
		", duration: 1s, autoattach: [{label: net, read: true}]}\n"
	target, err := url.Parse(b.url)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	var once sync.Once
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		failed := false
		if r.Method == http.MethodGet && r.URL.Path == "/v1/integrations/prod-w" {
			once.Do(func() { failed = true })
		}
		if failed {
			http.Error(w, `{"error":"unavailable"}`, http.StatusServiceUnavailable)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	defer ts.Close()
	vars := map[string]string{"BROKER_URL": ts.URL, "BROKER_API_KEY": liveAdmin}
	r := runCLI(vars, "apply", "-f", writeFile(t, "file.yaml", file))
	if got := vPCWrites(t, b); got != "" {
		t.Errorf("vpc holds a write attachment after apply (exit %d): %s\n%s", r.code, got, r.stdout)
	}
}

// TestApplyMovesNoStackUnderATemplateTheFileReplaces: a file that moves stack vpc from
// space a to space b and changes b's subject template never has vpc in b under b's old
// template: vpc's tokens would meanwhile carry a subject (here "b-old:vpc:write") that neither
// the broker before the apply (vpc in a) nor the file (b's new template) gives it, and that a
// cloud role trusting b's old subjects admits.
func TestApplyMovesNoStackUnderATemplateTheFileReplaces(t *testing.T) {
	b := startLive(t, liveFile(""))
	b.put(t, "/v1/spaces/a", `{"parent":"root"}`)
	b.put(t, "/v1/spaces/b", `{"parent":"root","subjectTemplate":"b-old:{callerId}:{scope}"}`)
	b.put(t, "/v1/stacks/vpc", `{"space":"a","labels":[]}`)
	file := "spaces:\n  - {id: a, parent: root}\n" +
		"  - {id: b, parent: root, subject_template: \"b-new:{callerId}:{scope}\"}\n" +
		"stacks:\n  - {id: vpc, space: b, labels: []}\n"
	seen, r := orderWatch(t, b, file, func() string {
		inB := strings.Contains(orderGet(t, b, "/v1/stacks/vpc"), `"space":"b"`)
		if inB && strings.Contains(orderGet(t, b, "/v1/spaces/b"), "b-old") {
			return "vpc is in b under b's old subject template"
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

// orderWatch applies file with the admin key, asking bad before each PUT what the broker grants
// that it must not; it returns those notes and apply's result.
func orderWatch(t *testing.T, b *liveBroker, file string, bad func() string) ([]string, result) {
	return applyWatched(t, b, watchedApply{file: file, bad: bad})
}
