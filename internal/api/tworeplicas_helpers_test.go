package api

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/config"
)

// twoReplicas is two catalog replicas on one store while a configuration file rolls out:
// replica 2's file alone labels stack fs (team-b) "wl". Each serves the admin API.
type twoReplicas struct {
	m1, m2  *catalog.Manager
	rt, rt2 *Router
}

// newTwoReplicas starts replica 1 on store1 and replica 2 on store2 (the same store, or a
// wrapper of it), logging nowhere.
func newTwoReplicas(t *testing.T, store1, store2 catalog.Store) *twoReplicas {
	t.Helper()
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	f2 := adminTestFile()
	f2.Stacks = append(f2.Stacks, config.Stack{ID: "fs", Space: "team-b", Labels: []string{"wl"}})
	m1, err := catalog.NewManager(ctx, catalog.ManagerConfig{Store: store1, File: adminTestFile(), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	m2, err := catalog.NewManager(ctx, catalog.ManagerConfig{Store: store2, File: f2, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	admin := func(m *catalog.Manager) *Router {
		rt := NewRouter()
		NewAdmin(AdminConfig{Catalog: m, Auth: secretAuth{m: m}, Events: &keptEvents{}}).Mount(rt)
		return rt
	}
	return &twoReplicas{m1: m1, m2: m2, rt: admin(m1), rt2: admin(m2)}
}

// do sends a JSON request to replica 1's admin API as the key whose secret is key.
func (r *twoReplicas) do(key, method, path, body string) *httptest.ResponseRecorder {
	return serveJSON(r.rt, key, method, path, body)
}

// do2 sends a JSON request to replica 2's admin API as the key whose secret is key.
func (r *twoReplicas) do2(key, method, path, body string) *httptest.ResponseRecorder {
	return serveJSON(r.rt2, key, method, path, body)
}

// serveJSON answers a JSON request on rt as the key whose secret is key.
func serveJSON(rt *Router, key, method, path, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+key)
	w := httptest.NewRecorder()
	rt.ServeHTTP(w, req)
	return w
}

// Role w's integration aws-w (team-b), with and without its autoattach rule for write on "wl".
const (
	awsWWithRule = `{"space":"team-b","aws":{"roleArn":"arn:aws:iam::123456789012:role/w"},"autoattach":[{"label":"wl","write":true}]}`
	awsWNoRule   = `{"space":"team-b","aws":{"roleArn":"arn:aws:iam::123456789012:role/w"}}`
)

// dropRule drops aws-w's rule for write through replica 1 and returns the answer's status.
func (r *twoReplicas) dropRule() int {
	return r.do("boss", "PUT", "/v1/integrations/aws-w", awsWNoRule).Code
}

// refresh refreshes replica 2, failing t on an error.
func (r *twoReplicas) refresh(t *testing.T) {
	t.Helper()
	if err := r.m2.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// requireFSWritten fails t unless replica 2 attaches fs for write to aws-w.
func (r *twoReplicas) requireFSWritten(t *testing.T) {
	t.Helper()
	for _, at := range r.m2.Live().Load().Attachments("fs") {
		if at.Integration == "aws-w" && at.Write {
			return
		}
	}
	t.Fatalf("replica 2 does not attach fs for write to aws-w: %v", r.m2.Live().Load().Attachments("fs"))
}

// readIntoW has b-admin (space:admin alone on team-b) create stack rd and integration aws-w2 of
// role w in team-b, then attach it for read to rd, and returns that last answer.
func (r *twoReplicas) readIntoW(t *testing.T) *httptest.ResponseRecorder {
	t.Helper()
	r.prepareReadIntoW(t)
	return r.do("b-admin", "PUT", "/v1/stacks/rd/attachments/aws-w2", `{"read":true}`)
}

// prepareReadIntoW has b-admin create stack rd and integration aws-w2 of role w in team-b.
func (r *twoReplicas) prepareReadIntoW(t *testing.T) {
	t.Helper()
	for _, s := range [][2]string{
		{"/v1/stacks/rd", `{"space":"team-b"}`},
		{"/v1/integrations/aws-w2", awsWNoRule},
	} {
		if w := r.do("b-admin", "PUT", s[0], s[1]); w.Code != http.StatusCreated {
			t.Fatalf("PUT %s by b-admin: %d %s", s[0], w.Code, w.Body)
		}
	}
}

// ruleLeavesDuringRecord creates aws-w's rule for write through replica 1, then refreshes
// replica 2 with before run (by the store wrapper) just ahead of its record commit; before drops
// the rule, so the commit goes stale and replica 2 holds its record of w pending.
func (r *twoReplicas) ruleLeavesDuringRecord(t *testing.T, setBefore func(func())) {
	t.Helper()
	if w := r.do("boss", "PUT", "/v1/integrations/aws-w", awsWWithRule); w.Code != http.StatusCreated {
		t.Fatalf("rule for write: %d %s", w.Code, w.Body)
	}
	var dropped int
	setBefore(func() { dropped = r.dropRule() })
	r.refresh(t)
	if dropped != http.StatusOK {
		t.Fatalf("dropping the rule during replica 2's record commit: %d", dropped)
	}
	r.requireFSWritten(t)
}
