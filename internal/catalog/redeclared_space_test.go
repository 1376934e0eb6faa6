package catalog_test

import (
	"context"
	"errors"
	"testing"

	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/config"
)

// TestRedeclaredElsewhereSpaceKeepsDeletedIDsOut checks that a stack id deleted from a space
// that was itself deleted through the API (under team-b's y) does not come back through the API
// once the file declares that space id under another parent (team-a's x), on a reload or at a
// start: the space names another line of administration, and x's administrators would
// otherwise create a stack whose sub is the deleted one's, which team-b's trust still admits.
func TestRedeclaredElsewhereSpaceKeepsDeletedIDsOut(t *testing.T) {
	ctx := context.Background()
	declared := teamsFile()
	declared.Spaces = append(declared.Spaces, config.Space{ID: "gone", Parent: "x"})
	for _, how := range []string{"reload", "restart"} {
		t.Run(how, func(t *testing.T) {
			store := catalog.NewMemory()
			m, err := catalog.NewManager(ctx, catalog.ManagerConfig{Store: store, File: teamsFile()})
			if err != nil {
				t.Fatal(err)
			}
			createThenDelete(t, m, []any{config.Space{ID: "gone", Parent: "y"},
				config.Stack{ID: "deep", Space: "gone"}})
			if how == "reload" {
				_, err = m.Reload(ctx, declared)
			} else {
				m, err = catalog.NewManager(ctx, catalog.ManagerConfig{Store: store, File: declared})
			}
			if err != nil {
				t.Fatalf("declare the deleted space under x in the file: %v", err)
			}
			err = putObject(t, m, config.Stack{ID: "deep", Space: "gone"})
			if !errors.Is(err, catalog.ErrConflict) {
				t.Errorf("stack deleted from space gone (then under y), given again through "+
					"the API once the file declares gone under x = %v, want a conflict", err)
			}
		})
	}
}
