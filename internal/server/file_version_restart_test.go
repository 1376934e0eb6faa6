package server

import (
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/testutil/redistest"
)

// TestFileObjectEditedWhileDownGetsANewVersion: contract §8, "Every object has a version (an
// integer that grows with each change) returned as ETag". A file object edited while no replica
// ran (store.redis) is at a higher version after the restart, as after a SIGHUP; a second
// replica started on the same file shows it at that version too, and an object left as it was
// keeps its version.
func TestFileObjectEditedWhileDownGetsANewVersion(t *testing.T) {
	redis := redistest.Start(t)
	// file declares stack edited with labels and role role-edited with actions.
	file := func(labels, actions string) string {
		return strings.NewReplacer(
			"stacks:\n", "stacks:\n  - {id: edited, space: prod, labels: ["+labels+"]}\n  - {id: kept, space: prod}\n",
			"roles:\n", "roles:\n  - {id: role-edited, actions: ["+actions+"]}\n",
		).Replace(adminConfig)
	}
	opts := serverOptions{redisURL: redis.URL(), keyBackend: "redis", baseYAML: file("", "run:read")}
	a := startServer(t, opts)
	a.admin(t, "GET", "/v1/stacks/edited", "").expect(t, "edited stack before", 200, `"version":1`)
	a.admin(t, "GET", "/v1/roles", "").expect(t, "edited role before", 200, `{"id":"role-edited","actions":["run:read"],"managedBy":"config","version":1}`)
	a.stop()

	opts.baseYAML = file("l", "run:read, run:create")
	b := startServer(t, opts)
	c := startServer(t, opts)
	for name, ts := range map[string]*testServer{"first": b, "second": c} {
		got := ts.admin(t, "GET", "/v1/stacks/edited", "")
		got.expect(t, name+" replica: edited stack after the restart", 200, `"labels":["l"]`, `"version":2`)
		if got.etag != `"2"` {
			t.Errorf("%s replica: the edited stack's ETag is %s, want \"2\"", name, got.etag)
		}
		ts.admin(t, "GET", "/v1/roles", "").expect(t, name+" replica: edited role after the restart", 200,
			`{"id":"role-edited","actions":["run:read","run:create"],"managedBy":"config","version":2}`)
		ts.admin(t, "GET", "/v1/stacks/kept", "").expect(t, name+" replica: stack left as it was", 200, `"version":1`)
	}
	// Contract §8: every change is an audit event. The edit reached the store at the first
	// restart, with one config.reload event naming what changed; the second replica, on the
	// file already recorded, adds none.
	var starts []string
	for _, e := range auditEvents(t, c, "root", 100) {
		if e.Action == "config.reload" {
			starts = append(starts, e.Outcome+": "+e.Detail)
		}
	}
	want := "success: configuration file changed while no replica ran on it, applied at start-up; changed (new version): stack edited, role role-edited"
	if len(starts) != 1 || starts[0] != want {
		t.Errorf("config.reload events after the restarts: %q, want [%q]", starts, want)
	}
}

// TestKeyAddedWhileDownIsAudited: a root admin API key added to the file while no replica ran
// is in force once a replica starts on it, and that start's config.reload event names it, as a
// SIGHUP reload of the same file would. On the old code the start recorded only what left or
// changed, so the key was in force with no event naming it.
func TestKeyAddedWhileDownIsAudited(t *testing.T) {
	redis := redistest.Start(t)
	opts := serverOptions{redisURL: redis.URL(), keyBackend: "redis", baseYAML: adminConfig}
	a := startServer(t, opts)
	a.admin(t, "GET", "/v1/spaces", "").expect(t, "first start", 200)
	a.stop()

	opts.baseYAML = strings.Replace(adminConfig, "api_keys:\n",
		"api_keys:\n  - {id: backdoor, secret_sha256: "+sha256Hex("backdoor-secret")+", bindings: [{role: admin, space: root}]}\n", 1)
	b := startServer(t, opts)
	if code := b.call(t, apiRequest{method: "GET", path: "/v1/api-keys", bearer: "backdoor-secret"}); code != 200 {
		t.Fatalf("backdoor key not in force: %d", code)
	}
	var found []string
	for _, e := range auditEvents(t, b, "root", 100) {
		if e.Action == "config.reload" {
			found = append(found, e.Outcome+": "+e.Detail)
		}
	}
	named := false
	for _, d := range found {
		named = named || strings.Contains(d, "backdoor")
	}
	if !named {
		t.Errorf("a root admin key added to the file while no replica ran is in force with no config.reload event naming it; config.reload events: %q", found)
	}
}
