package server

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/testutil/redistest"
)

// commitFault is a catalog store whose next armed commit misbehaves: with kill set, the commit
// lands and redis-server dies before it answers the replica anything more; with fail set, the
// commit does not reach the store and fails with that error.
type commitFault struct {
	catalog.Store
	armed *atomic.Bool
	kill  *redistest.Server
	fail  error
}

func (f commitFault) Commit(ctx context.Context, at catalog.Head, changes []catalog.Change) (catalog.Head, error) {
	if !f.armed.CompareAndSwap(true, false) {
		return f.Store.Commit(ctx, at, changes)
	}
	if f.fail != nil {
		return catalog.Head{}, f.fail
	}
	h, err := f.Store.Commit(ctx, at, changes)
	if err == nil {
		f.kill.Kill()
	}
	return h, err
}

// roleEvents lists the role.put events of role id in the root listing, oldest first, as
// "outcome: detail".
func roleEvents(t *testing.T, ts *testServer, id string) []string {
	t.Helper()
	var out []string
	for _, e := range auditEvents(t, ts, "root", 500) {
		if e.Action == "role.put" && strings.Contains(e.Detail, "role "+id+" ") {
			out = append(out, e.Outcome+": "+e.Detail)
		}
	}
	return out
}

// TestAdminChangeInForceHasItsEvent: no administration change is in force without its audit
// event. redis-server dies right after a role's commit lands (durably), before the replica
// does anything more: once it is back, the role is in force and the trail records its creation.
func TestAdminChangeInForceHasItsEvent(t *testing.T) {
	redis := redistest.Start(t)
	var armed atomic.Bool
	ts := startServer(t, serverOptions{redisURL: redis.URL(), keyBackend: "redis", baseYAML: adminConfig,
		catalogStore: func(s catalog.Store) catalog.Store { return commitFault{Store: s, armed: &armed, kill: redis} }})

	armed.Store(true)
	put := ts.admin(t, "PUT", "/v1/roles/audited", `{"actions":["run:read"]}`)
	redis.Restart()
	deadline := time.Now().Add(15 * time.Second)
	got := ts.admin(t, "GET", "/v1/roles/audited", "")
	for got.code != http.StatusOK && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		got = ts.admin(t, "GET", "/v1/roles/audited", "")
	}
	if got.code != http.StatusOK {
		t.Fatalf("GET of the role whose commit landed before redis-server died: %d %s (the PUT answered %d %s)", got.code, got.body, put.code, put.body)
	}
	if ev := roleEvents(t, ts, "audited"); len(ev) != 1 || !strings.HasPrefix(ev[0], "success: role audited created") {
		t.Errorf("role in force (the PUT answered %d); its role.put events: %q, want its creation", put.code, ev)
	}
}

// TestAdminChangeNotCommittedIsRecorded: a change whose event is recorded and whose commit then
// does not land is followed in the trail by an error event of the same action saying so:
// "not applied" when another change came first (the change is then validated, recorded and
// committed again), "not confirmed" when the store failed before it answered.
func TestAdminChangeNotCommittedIsRecorded(t *testing.T) {
	for _, tc := range []struct {
		name   string
		fail   error
		status int
		want   []string
	}{
		{"another change first", catalog.ErrStale, http.StatusCreated, []string{
			"success: role r created at version 1: {\"id\":\"r\",\"actions\":[\"run:read\"]}",
			"error: not applied, another change was committed first: role r created at version 1: {\"id\":\"r\",\"actions\":[\"run:read\"]}",
			"success: role r created at version 1: {\"id\":\"r\",\"actions\":[\"run:read\"]}",
		}},
		{"store failed", errors.Join(catalog.ErrUnavailable, errors.New("connection reset")), http.StatusServiceUnavailable, []string{
			"success: role r created at version 1: {\"id\":\"r\",\"actions\":[\"run:read\"]}",
			"error: not confirmed, the catalog store failed before it answered: role r created at version 1: {\"id\":\"r\",\"actions\":[\"run:read\"]}",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var armed atomic.Bool
			ts := startServer(t, serverOptions{baseYAML: adminConfig,
				catalogStore: func(s catalog.Store) catalog.Store { return commitFault{Store: s, armed: &armed, fail: tc.fail} }})
			armed.Store(true)
			if got := ts.admin(t, "PUT", "/v1/roles/r", `{"actions":["run:read"]}`); got.code != tc.status {
				t.Fatalf("PUT: %d %s, want %d", got.code, got.body, tc.status)
			}
			ev := roleEvents(t, ts, "r")
			if strings.Join(ev, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("role.put events:\n%s\nwant:\n%s", strings.Join(ev, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}
