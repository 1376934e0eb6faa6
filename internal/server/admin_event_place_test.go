package server

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/testutil/redistest"
)

// requestHeldStore blocks, once armed, the first Head an API request (not the refresh loop)
// makes, until release closes: the request's change is then validated and committed on the
// store as it is after whatever another replica committed meanwhile.
type requestHeldStore struct {
	catalog.Store
	armed            *atomic.Bool
	entered, release chan struct{}
}

// Head blocks the first request's call once armed, then asks the store.
func (s requestHeldStore) Head(ctx context.Context) (catalog.Head, error) {
	if ctx.Value(http.LocalAddrContextKey) != nil && s.armed.CompareAndSwap(true, false) {
		close(s.entered)
		<-s.release
	}
	return s.Store.Head(ctx)
}

// adminStep is one administration request and the status it must be answered with.
type adminStep struct {
	method, path, body string
	status             int
}

// An administration change's event is filed where its object is in the catalog the change is
// committed on, not where the request first found it: while replica A's change waits, replica
// B moves the object (or replaces it under the same id) from team-a to team-b, and team-b's
// listing, whose space the committed change touched, must show A's event.
func TestAdminEventFiledWhereTheCommitFindsTheObject(t *testing.T) {
	for _, tc := range []struct {
		name string
		// setup is sent to A before the change; meanwhile is sent to B while A's change waits.
		setup, meanwhile []adminStep
		change           adminStep
		action           string
		// ready is a path B answers with 200 holding readyHolds once it sees the setup.
		ready, readyHolds string
	}{
		{
			name: "attachment put on a stack moved",
			setup: []adminStep{
				{"PUT", "/v1/integrations/ep-int", `{"space":"prod","aws":{"roleArn":"arn:aws:iam::123456789012:role/ep"}}`, 201},
				{"PUT", "/v1/stacks/ep-st", `{"space":"team-a"}`, 201},
			},
			meanwhile: []adminStep{{"PUT", "/v1/stacks/ep-st", `{"space":"team-b"}`, 200}},
			change:    adminStep{"PUT", "/v1/stacks/ep-st/attachments/ep-int", `{"write":true}`, 201},
			action:    "attachment.put",
			ready:     "/v1/stacks/ep-st", readyHolds: `"team-a"`,
		},
		{
			name:      "stack delete of a stack moved",
			setup:     []adminStep{{"PUT", "/v1/stacks/ep-st", `{"space":"team-a"}`, 201}},
			meanwhile: []adminStep{{"PUT", "/v1/stacks/ep-st", `{"space":"team-b"}`, 200}},
			change:    adminStep{"DELETE", "/v1/stacks/ep-st", "", 204},
			action:    "stack.delete",
			ready:     "/v1/stacks/ep-st", readyHolds: `"team-a"`,
		},
		{
			name:  "api key delete of a key replaced under its id",
			setup: []adminStep{{"POST", "/v1/api-keys", `{"id":"ep-key","bindings":[{"role":"admin","space":"team-a"}]}`, 201}},
			meanwhile: []adminStep{
				{"DELETE", "/v1/api-keys/ep-key", "", 204},
				{"POST", "/v1/api-keys", `{"id":"ep-key","bindings":[{"role":"admin","space":"team-b"}]}`, 201},
			},
			change: adminStep{"DELETE", "/v1/api-keys/ep-key", "", 204},
			action: "api_key.delete",
			ready:  "/v1/api-keys", readyHolds: `"ep-key"`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			redis := redistest.Start(t)
			opts := serverOptions{redisURL: redis.URL(), keyBackend: "redis", baseYAML: adminConfig, extraYAML: manyFailures}
			var armed atomic.Bool
			held := requestHeldStore{armed: &armed, entered: make(chan struct{}), release: make(chan struct{})}
			optsA := opts
			optsA.catalogStore = func(s catalog.Store) catalog.Store { held.Store = s; return held }
			a := startServer(t, optsA)
			opts.issuer = a.URL
			b := startServer(t, opts)

			for _, s := range tc.setup {
				a.admin(t, s.method, s.path, s.body).expect(t, "setup "+s.method+" "+s.path, s.status)
			}
			waitUntil(t, 10*time.Second, func() bool { // B sees the setup before it changes it
				ans := b.admin(t, "GET", tc.ready, "")
				return ans.code == 200 && strings.Contains(ans.body, tc.readyHolds)
			})

			armed.Store(true)
			var wg sync.WaitGroup
			var got adminAnswer
			wg.Add(1)
			go func() {
				defer wg.Done()
				got = a.admin(t, tc.change.method, tc.change.path, tc.change.body)
			}()
			select {
			case <-held.entered:
			case <-time.After(10 * time.Second):
				close(held.release)
				t.Fatal("the change never reached the catalog store")
			}
			for _, s := range tc.meanwhile {
				b.admin(t, s.method, s.path, s.body).expect(t, "on B "+s.method+" "+s.path, s.status)
			}
			close(held.release)
			wg.Wait()
			if got.code != tc.change.status {
				t.Fatalf("%s %s: %d %s", tc.change.method, tc.change.path, got.code, got.body)
			}
			listed := false
			for _, e := range auditEvents(t, a, "team-b", 100) {
				if e.Action == tc.action && e.Outcome == "success" {
					listed = true
				}
			}
			if !listed {
				t.Errorf("the change was committed on its object in team-b, but team-b's listing has no %s", tc.action)
			}
		})
	}
}
