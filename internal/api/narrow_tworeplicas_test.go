package api

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/config"
)

// TestWriteAttachmentOnlyAnotherReplicaHoldsIsRecorded: while a file is rolled out, replica 2's
// file holds stack fs (team-b) carrying label "wl"; replica 1's does not. An integration with an
// autoattach rule for write on "wl" created through replica 1 attaches fs for write to role W on
// replica 2 only; the rule is then dropped through replica 1. Replica 2 recorded W when its
// refresh put the attachment in force, so a key with space:admin alone on team-b attaching W for
// read to a team-b stack afterwards is refused, as on a single replica.
// Guards against: manager.go:Refresh not recording the identities its catalog attaches for write
func TestWriteAttachmentOnlyAnotherReplicaHoldsIsRecorded(t *testing.T) {
	ctx := context.Background()
	store := catalog.NewMemory()
	f1 := adminTestFile()
	f2 := adminTestFile()
	f2.Stacks = append(f2.Stacks, config.Stack{ID: "fs", Space: "team-b", Labels: []string{"wl"}})
	m1, err := catalog.NewManager(ctx, catalog.ManagerConfig{Store: store, File: f1})
	if err != nil {
		t.Fatal(err)
	}
	m2, err := catalog.NewManager(ctx, catalog.ManagerConfig{Store: store, File: f2})
	if err != nil {
		t.Fatal(err)
	}
	rt := NewRouter()
	NewAdmin(AdminConfig{Catalog: m1, Auth: secretAuth{m: m1}, Events: &keptEvents{}}).Mount(rt)
	do := func(key, method, path, body string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, path, strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Authorization", "Bearer "+key)
		w := httptest.NewRecorder()
		rt.ServeHTTP(w, r)
		return w
	}
	if w := do("boss", "PUT", "/v1/integrations/aws-w", `{"space":"team-b","aws":{"roleArn":"arn:aws:iam::123456789012:role/w"},"autoattach":[{"label":"wl","write":true}]}`); w.Code != http.StatusCreated {
		t.Fatalf("rule for write: %d %s", w.Code, w.Body)
	}
	if err := m2.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	var wrote bool
	for _, at := range m2.Live().Load().Attachments("fs") {
		wrote = wrote || (at.Integration == "aws-w" && at.Write)
	}
	if !wrote {
		t.Fatalf("replica 2 does not attach fs for write to aws-w: %v", m2.Live().Load().Attachments("fs"))
	}
	// The rule leaves through replica 1 (the root key drops it).
	if w := do("boss", "PUT", "/v1/integrations/aws-w", `{"space":"team-b","aws":{"roleArn":"arn:aws:iam::123456789012:role/w"}}`); w.Code != http.StatusOK {
		t.Fatalf("dropping the rule of aws-w: %d %s", w.Code, w.Body)
	}
	if err := m2.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	for _, s := range [][3]string{
		{"PUT", "/v1/stacks/rd", `{"space":"team-b"}`},
		{"PUT", "/v1/integrations/aws-w2", `{"space":"team-b","aws":{"roleArn":"arn:aws:iam::123456789012:role/w"}}`},
	} {
		if w := do("b-admin", s[0], s[1], s[2]); w.Code != http.StatusCreated {
			t.Fatalf("%s %s by b-admin: %d %s", s[0], s[1], w.Code, w.Body)
		}
	}
	w := do("b-admin", "PUT", "/v1/stacks/rd/attachments/aws-w2", `{"read":true}`)
	if w.Code != http.StatusForbidden {
		t.Errorf("b-admin (space:admin only) attaching role w, which fs in team-b was attached to for write, for read: %d %s, want 403", w.Code, w.Body)
	}
}
