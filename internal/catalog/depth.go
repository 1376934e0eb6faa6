package catalog

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/brokerhq/broker/internal/config"
)

// movedTooDeep refuses a change giving catalog c, from old (the catalog in force), that places
// a space deeper than config.MaxSpaceDepth: one new, or whose path changed (a space moved with
// the spaces under it, through the API or on a reload). Spaces already that deep, unmoved, pass,
// so that a store holding a deeper tree from before the limit still takes every other change
// (deleting an API key above all). It names the deepest such space.
func movedTooDeep(old, c *Catalog) error {
	var worst string
	for id, path := range c.paths {
		if len(path) <= config.MaxSpaceDepth || old != nil && slices.Equal(old.paths[id], path) {
			continue
		}
		if worst == "" || cmp.Or(cmp.Compare(len(path), len(c.paths[worst])), cmp.Compare(worst, id)) > 0 {
			worst = id
		}
	}
	if worst == "" {
		return nil
	}
	return &ChangeError{Kind: ErrInvalid, Field: "parent", Messages: []string{fmt.Sprintf(
		"space %q would be %d levels deep; spaces nest at most %d deep (root is 1)",
		worst, len(c.paths[worst]), config.MaxSpaceDepth)}}
}
