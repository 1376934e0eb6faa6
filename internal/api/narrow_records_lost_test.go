package api

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/config"
)

// flakyCatalogStore is a catalog store whose next Commit fails once as the store being
// unavailable (a Redis timeout or failover), then works again.
type flakyCatalogStore struct {
	*catalog.Memory
	mu       sync.Mutex
	failNext bool
	// before, when set, runs once before the next Commit is passed on.
	before func()
}

func (s *flakyCatalogStore) Commit(ctx context.Context, at catalog.Head, changes []catalog.Change) (catalog.Head, error) {
	s.mu.Lock()
	fail := s.failNext
	s.failNext = false
	before := s.before
	s.before = nil
	s.mu.Unlock()
	if before != nil {
		before()
	}
	if fail {
		return catalog.Head{}, fmt.Errorf("%w: probe: connection reset", catalog.ErrUnavailable)
	}
	return s.Memory.Commit(ctx, at, changes)
}

// TestRefreshRecordKeptAfterOneFailedCommit: as in
// TestWriteAttachmentOnlyAnotherReplicaHoldsIsRecorded, replica 2's file alone labels fs "wl", so
// a write rule created through replica 1 attaches fs for write to role W on replica 2 only.
// Replica 2's refresh puts that attachment in force, and its commit recording W fails once (a
// transient store error): the record stays pending and a later refresh (a poll, the store not
// moved) writes it, so the two-step narrowing is refused after the rule left.
// Guards against: manager.go:recordWriters dropping the records of a failed commit
// Guards against: manager.go:Refresh not retrying pending records while the store stands still
func TestRefreshRecordKeptAfterOneFailedCommit(t *testing.T) {
	ctx := context.Background()
	mem := catalog.NewMemory()
	flaky := &flakyCatalogStore{Memory: mem}
	f1 := adminTestFile()
	f2 := adminTestFile()
	f2.Stacks = append(f2.Stacks, config.Stack{ID: "fs", Space: "team-b", Labels: []string{"wl"}})
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	m1, err := catalog.NewManager(ctx, catalog.ManagerConfig{Store: mem, File: f1, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	m2, err := catalog.NewManager(ctx, catalog.ManagerConfig{Store: flaky, File: f2, Logger: quiet})
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
	flaky.mu.Lock()
	flaky.failNext = true
	flaky.mu.Unlock()
	if err := m2.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	var wrote bool
	for _, at := range m2.Live().Load().Attachments("fs") {
		wrote = wrote || (at.Integration == "aws-w" && at.Write)
	}
	if !wrote {
		t.Fatalf("replica 2 does not attach fs for write to aws-w")
	}
	// Replica 2 keeps polling (Run refreshes at least every poll) while nothing changes.
	for range 3 {
		if err := m2.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// The rule leaves through replica 1.
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
		t.Errorf("b-admin (space:admin only) attaching role w, which fs was attached to for write on replica 2, for read after one failed record commit: %d %s, want 403", w.Code, w.Body)
	}
}

// TestRefreshRecordKeptThroughAConcurrentChange: the same without any failure: another change
// (the rule leaving, through replica 1) lands between replica 2's load and its commit of the
// record; the record stays pending, and the next refresh, whose catalog no longer attaches W,
// still writes it (and the catalog going out of force is recorded as well as the new one).
// Guards against: manager.go:recordWriters dropping the records of a stale commit
func TestRefreshRecordKeptThroughAConcurrentChange(t *testing.T) {
	ctx := context.Background()
	mem := catalog.NewMemory()
	flaky := &flakyCatalogStore{Memory: mem}
	f1 := adminTestFile()
	f2 := adminTestFile()
	f2.Stacks = append(f2.Stacks, config.Stack{ID: "fs", Space: "team-b", Labels: []string{"wl"}})
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	m1, err := catalog.NewManager(ctx, catalog.ManagerConfig{Store: mem, File: f1, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	m2, err := catalog.NewManager(ctx, catalog.ManagerConfig{Store: flaky, File: f2, Logger: quiet})
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
	var dropped int
	flaky.mu.Lock()
	flaky.before = func() {
		dropped = do("boss", "PUT", "/v1/integrations/aws-w", `{"space":"team-b","aws":{"roleArn":"arn:aws:iam::123456789012:role/w"}}`).Code
	}
	flaky.mu.Unlock()
	if err := m2.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if dropped != http.StatusOK {
		t.Fatalf("dropping the rule through replica 1 during replica 2's record commit: %d", dropped)
	}
	var wrote bool
	for _, at := range m2.Live().Load().Attachments("fs") {
		wrote = wrote || (at.Integration == "aws-w" && at.Write)
	}
	if !wrote {
		t.Fatalf("replica 2 did not put fs's write attachment to aws-w in force")
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
		t.Errorf("b-admin (space:admin only) attaching role w for read, after replica 2 had fs attached to it for write: %d %s, want 403", w.Code, w.Body)
	}
}
