package catalog

import (
	"fmt"
	"slices"

	"github.com/brokerhq/broker/internal/config"
)

// deepest refuses a change that places a space (creates it, or moves it with its subtree)
// deeper than config.MaxSpaceDepth in c, the catalog it would give. Other changes pass, also in
// a store holding a deeper tree from before the limit, so that such a store still takes them
// (deleting an API key above all).
func deepest(c *Catalog, mu Mutation) error {
	if mu.Ref.Kind != KindSpace || mu.Object == nil {
		return nil
	}
	depth := len(c.SpacePath(mu.Ref.ID)) + height(c, mu.Ref.ID, config.MaxSpaceDepth) - 1
	if depth > config.MaxSpaceDepth {
		return &ChangeError{Kind: ErrInvalid, Field: "parent", Messages: []string{fmt.Sprintf(
			"space %q would reach %d levels deep with the spaces under it; spaces nest at most %d deep (root is 1)",
			mu.Ref.ID, depth, config.MaxSpaceDepth)}}
	}
	return nil
}

// height is how many levels space and the spaces under it span (1 without children), counted
// no further than most.
func height(c *Catalog, space string, most int) int {
	if most <= 1 {
		return 1
	}
	h := 1
	for _, child := range c.Children(space) {
		h = max(h, 1+height(c, child, most-1))
	}
	return h
}

// movedTooDeep refuses a reload giving catalog c, from old (the catalog in force), that places
// a space deeper than config.MaxSpaceDepth: one new, or whose path changed (a file space moved
// with the API spaces under it). Spaces already that deep, unmoved, pass, as in deepest.
func movedTooDeep(old, c *Catalog) error {
	for id, path := range c.paths {
		if len(path) > config.MaxSpaceDepth && (old == nil || !slices.Equal(old.paths[id], path)) {
			return fmt.Errorf("catalog: space %q would be %d levels deep; spaces nest at most %d deep (root is 1)",
				id, len(path), config.MaxSpaceDepth)
		}
	}
	return nil
}
