package server

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/config"
)

// downMemory is a memory trail whose appends fail while down is set; it keeps the memory
// trail's other interfaces (the sinks' chain and cursors).
type downMemory struct {
	*audit.Memory
	down atomic.Bool
}

func (d *downMemory) Append(ctx context.Context, e audit.Event, spaces []string) (audit.Event, error) {
	if d.down.Load() {
		return audit.Event{}, errors.New("trail unreachable")
	}
	return d.Memory.Append(ctx, e, spaces)
}

// unservedServer builds, without serving it, a server of adminConfig on the memory store whose
// trail is a downMemory, and returns it with its configuration's text and its trail.
func unservedServer(t *testing.T) (srv *Server, base string, trail *downMemory) {
	t.Helper()
	base = ttlConfigText("15m", "3h", "")
	srv = buildUnserved(t, base, func(mem *audit.Memory) audit.Store {
		trail = &downMemory{Memory: mem}
		return trail
	})
	return srv, base, trail
}

// A reload's config.reload event is recorded before the file's objects are in force, as an API
// change's is: with the trail refusing appends, a SIGHUP reload that adds an admin key is refused
// and the key stays out; once the trail is back the same reload goes into force with its event.
// On the old code the reload was put in force first and its event, which failed, only logged:
// a key with space:admin in force with no trace in the trail.
func TestReloadRecordedBeforeInForce(t *testing.T) {
	ctx := context.Background()
	srv, base, trail := unservedServer(t)

	withKey := strings.Replace(base, "api_keys:\n", "api_keys:\n  - {id: planted, secret_sha256: "+sha256Hex("planted-secret")+", bindings: [{role: admin, space: root}]}\n", 1)
	next, err := config.Parse("test.yaml", []byte(withKey))
	if err != nil {
		t.Fatal(err)
	}
	trail.down.Store(true)
	if err := srv.Reload(ctx, next, nil); err == nil || !strings.Contains(err.Error(), "audit event could not be recorded") {
		t.Errorf("reload with the trail down: %v, want it refused for its event", err)
	}
	if _, ok := srv.catalog.Live().Load().APIKey("planted"); ok {
		t.Fatal("the reload's key is in force although its event could not be recorded")
	}
	trail.down.Store(false)
	if err := srv.Reload(ctx, next, nil); err != nil {
		t.Fatalf("reload with the trail back: %v", err)
	}
	if _, ok := srv.catalog.Live().Load().APIKey("planted"); !ok {
		t.Fatal("the reload's key is not in force")
	}
	events, _, err := trail.List(ctx, config.RootSpace, "", 1000)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range events {
		if e.Action == "config.reload" && e.Outcome == audit.Success && strings.Contains(e.Detail, "planted") {
			found = true
		}
	}
	if !found {
		t.Errorf("no config.reload success event naming the key: %+v", events)
	}
}
