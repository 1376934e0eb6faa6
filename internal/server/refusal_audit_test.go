package server

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/testutil/redistest"
)

// TestRefusalsInTheTrail: control-plane 401s and 403s are denied events in the trail, a 403
// (or the 404 of a stack hidden from the key) under the space it was refused in and a 401 under root with no actor and nothing of the
// credential. Only 401s the failed-auth guard let through are recorded: once an address is
// cooling off its 429s add nothing, so bad keys cannot flood the trail.
func TestRefusalsInTheTrail(t *testing.T) {
	ts := startServer(t, serverOptions{extraYAML: "\nlimits: {auth_failures: 3, window: 1m, cooloff: 1m}\n"})
	if code := ts.call(t, apiRequest{method: "GET", path: "/v1/audit?space=prod", bearer: adminSecret}); code != 403 {
		t.Fatalf("audit listing without audit:read: %d, want 403", code)
	}
	if code := ts.call(t, apiRequest{method: "POST", path: "/v1/runs", bearer: adminSecret, body: map[string]string{"stack": "app-dev", "runType": "TASK"}}); code != 404 {
		t.Fatalf("run in a space the key has no binding on: %d, want 404 (the stack is hidden from the key)", code)
	}
	const presented = "brk_not-a-real-key-0123456789"
	var statuses []int
	for range 8 {
		statuses = append(statuses, ts.call(t, apiRequest{method: "POST", path: "/v1/runs", bearer: presented, body: map[string]string{"stack": "vpc-prod", "runType": "TRACKED"}}))
	}
	if got := fmt.Sprint(statuses); got != "[401 401 401 429 429 429 429 429]" {
		t.Fatalf("bad-key statuses %s, want three 401s then 429s", got)
	}

	// The address is cooling off now, so read the trail from the store rather than the API.
	events, _, err := ts.srv.state.audit.List(context.Background(), "root", "", 1000)
	if err != nil {
		t.Fatal(err)
	}
	var denied []string
	for _, e := range events {
		if e.Outcome != "denied" {
			continue
		}
		denied = append(denied, e.Action+"@"+e.Space+" by "+e.Actor)
		if strings.Contains(e.Detail, "not-a-real") || strings.Contains(e.Detail, "brk_") || strings.Contains(e.Detail, adminSecret+" ") {
			t.Errorf("event %+v repeats a presented credential", e)
		}
		if e.Actor == "unknown" && !strings.Contains(e.Detail, "unknown API key") {
			t.Errorf("401 event %+v does not say why", e)
		}
	}
	want := []string{"audit.read@prod by api_key:ci", "run.create@dev by api_key:ci",
		"run.create@root by unknown", "run.create@root by unknown", "run.create@root by unknown"}
	if strings.Join(denied, ", ") != strings.Join(want, ", ") {
		t.Errorf("denied events:\n  %s\nwant\n  %s", strings.Join(denied, "\n  "), strings.Join(want, "\n  "))
	}
	dev, _, err := ts.srv.state.audit.List(context.Background(), "dev", "", 100)
	if err != nil || len(dev) != 1 || dev[0].Stack != "app-dev" {
		t.Errorf("dev's listing %+v, %v: want the refused start of app-dev", dev, err)
	}
}

// TestRefusalOfAnOddPathInTheTrail: a change whose path decodes to bytes that are not UTF-8
// names no object that can exist: it is 400 before it is authorized, so nothing of the path
// reaches the trail, on either store.
func TestRefusalOfAnOddPathInTheTrail(t *testing.T) {
	for _, store := range []string{"memory", "redis"} {
		t.Run(store, func(t *testing.T) {
			opts := serverOptions{}
			if store == "redis" {
				opts.redisURL, opts.keyBackend = redistest.Start(t).URL(), "redis"
			}
			ts := startServer(t, opts)
			if code := ts.call(t, apiRequest{method: "PUT", path: "/v1/roles/r%FF", bearer: auditorSecret, body: map[string]any{"actions": []string{"run:read"}}}); code != 400 {
				t.Fatalf("PUT /v1/roles/r%%FF by the auditor: %d, want 400", code)
			}
			events, _, err := ts.srv.state.audit.List(context.Background(), "root", "", 1000)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range events {
				if e.Actor == "api_key:security" {
					t.Errorf("the refused PUT is in the trail: %+v", e)
				}
			}
		})
	}
}

// TestAdminRefusalsOfUnknownKeysInTheTrail: the administration routes are control-plane routes,
// so a 401 on any of them (a deleted key, a guess) is a denied event under root with no actor,
// naming the method and path and nothing of the credential, as on the run routes.
func TestAdminRefusalsOfUnknownKeysInTheTrail(t *testing.T) {
	ts := startServer(t, serverOptions{baseYAML: adminConfig})
	const presented = "brk_deleted-or-guessed-0123456789"
	routes := []struct{ method, path, body string }{
		{"POST", "/v1/api-keys", `{"id":"again","bindings":[{"role":"admin","space":"team-a"}]}`},
		{"DELETE", "/v1/api-keys/here", ""},
		{"GET", "/v1/api-keys", ""},
		{"PUT", "/v1/stacks/app-a", `{"space":"team-a"}`},
		{"PUT", "/v1/stacks/app-a/attachments/x", `{"read":true}`},
		{"GET", "/v1/spaces", ""},
		{"GET", "/v1/spaces/team-a", ""},
		{"DELETE", "/v1/roles/admin", ""},
	}
	for _, r := range routes {
		if code := ts.call(t, apiRequest{method: r.method, path: r.path, bearer: presented, body: r.body}); code != 401 {
			t.Fatalf("%s %s with an unknown key: %d, want 401", r.method, r.path, code)
		}
	}
	events, _, err := ts.srv.state.audit.List(context.Background(), "root", "", 1000)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range events {
		if e.Outcome != "denied" || e.Actor != "unknown" {
			continue
		}
		got = append(got, e.Action)
		if !strings.Contains(e.Detail, "unknown API key") || strings.Contains(e.Detail, "deleted-or-guessed") || strings.Contains(e.Detail, "brk_") {
			t.Errorf("401 event %+v does not say why, or repeats the credential", e)
		}
	}
	var want []string
	for _, r := range routes {
		want = append(want, r.method+" "+r.path)
	}
	if strings.Join(got, ", ") != strings.Join(want, ", ") {
		t.Errorf("denied events by unknown:\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// TestAdminRefusalOfALongPathIsBounded: the 401 event of an administration route names the
// path the caller sent, which nothing has checked yet: it is cut, so that anyone's request
// cannot put a 60 KB event into the trail (and every sink).
func TestAdminRefusalOfALongPathIsBounded(t *testing.T) {
	ts := startServer(t, serverOptions{baseYAML: adminConfig})
	long := strings.Repeat("a", 60000)
	if code := ts.call(t, apiRequest{method: "GET", path: "/v1/spaces/" + long, bearer: "brk_guessed-0123456789"}); code != 401 {
		t.Fatalf("GET of a long space id with an unknown key: %d, want 401", code)
	}
	events, _, err := ts.srv.state.audit.List(context.Background(), "root", "", 1000)
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, e := range events {
		if e.Actor != "unknown" {
			continue
		}
		found = true
		if n := len(e.Action) + len(e.Detail); n > 1024 || !strings.HasPrefix(e.Action, "GET /v1/spaces/aaaa") || !strings.HasSuffix(e.Action, "...") {
			t.Errorf("the refusal's event is %d bytes, action %.60q...: want the path cut", n, e.Action)
		}
	}
	if !found {
		t.Error("the refusal is not in the trail")
	}
}
