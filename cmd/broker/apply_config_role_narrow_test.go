package main

import (
	"strings"
	"testing"
)

// TestApplyStopsWhenItNarrowsAConfigRole: a role the broker's configuration file declares is
// read-only through the API, so an apply that takes actions away from it changes nothing at all:
// it cannot take them away first, and what else the file changes must not go on beside them.
// Here role admin (the server's file's) is held by key base-admin on space base; the file takes
// run:create and run:update away from admin and moves stack vpc into base. Neither before (vpc
// outside base) nor after (admin without run:create) may base-admin start a write-phase run of
// vpc, and at no step may it.
// Guards against: applynarrow.go:roleChange leaving a role the server's file declares to the main
// pass, which refused it 409 while the stack's move went on.
func TestApplyStopsWhenItNarrowsAConfigRole(t *testing.T) {
	b := startLive(t, liveFile(""))
	b.put(t, "/v1/spaces/other", `{"parent":"root"}`)
	b.put(t, "/v1/stacks/vpc", `{"space":"other","labels":[]}`)
	if got := keyMayCreateVPCRuns(t, b, liveBaseKey); got != "" {
		t.Fatalf("set-up: %s", got)
	}
	file := "roles:\n  - {id: admin, actions: [run:read, audit:read, space:admin]}\n" +
		"stacks:\n  - {id: vpc, space: base, labels: []}\n"
	n := b.writeCount()
	r := applyFailsGrantingNothing(t, b, watchedApply{file: file, bad: func() string { return keyMayCreateVPCRuns(t, b, liveBaseKey) }})
	if !strings.Contains(r.stderr, "role/admin") || !strings.Contains(r.stderr, "configuration file") {
		t.Errorf("apply: exit %d, stderr %q; want a failure naming role/admin and the configuration file", r.code, r.stderr)
	}
	for _, w := range b.writesSince(n) {
		if !strings.HasPrefix(w, "POST /v1/runs ") { // the runs bad tries to start
			t.Errorf("the apply changed the broker: %s", w)
		}
	}
}
