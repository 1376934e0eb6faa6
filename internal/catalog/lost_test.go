package catalog

import (
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/config"
)

// TestLostChanges: an object or tombstone the store holds at a lower version than the catalog
// in force, or not at all, is a lost change, put back as it was; one at the same or a higher
// version is not.
func TestLostChanges(t *testing.T) {
	stack := Ref{Kind: KindStack, ID: "s"}
	key := Ref{Kind: KindAPIKey, ID: "k"}
	role := Ref{Kind: KindRole, ID: "r"}
	have := Versioned{
		Objects:  Objects{Stacks: []config.Stack{{ID: "s", Space: "prod"}}, Roles: []config.Role{{ID: "r", Actions: []string{"run:read"}}}},
		Versions: map[Ref]int64{stack: 3, key: 2, role: 1},
		Created:  map[Ref]int64{stack: 1000, role: 500},
		Deleted:  map[Ref]int64{key: 2000},
	}
	now := Versioned{
		Objects:  Objects{Stacks: []config.Stack{{ID: "s", Space: "dev"}}, Roles: []config.Role{{ID: "r", Actions: []string{"run:read"}}}},
		Versions: map[Ref]int64{stack: 2, role: 1},
	}
	lost, err := lostChanges(have, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(lost) != 2 {
		t.Fatalf("lost %+v, want the stack and the key's tombstone", lost)
	}
	got := map[Ref]Record{}
	for _, ch := range lost {
		got[ch.Ref] = ch.Record
	}
	if r := got[stack]; r.Version != 3 || r.Created != 1000 || !strings.Contains(string(r.Body), `"space":"prod"`) {
		t.Errorf("the stack put back as %+v (%s)", r, r.Body)
	}
	if r := got[key]; r.Version != 2 || r.Created != 2000 || r.Body == nil || len(r.Body) != 0 {
		t.Errorf("the key's tombstone put back as %+v", r)
	}
	if lost, _ := lostChanges(have, have); len(lost) != 0 {
		t.Errorf("nothing lost, yet %+v", lost)
	}
}
