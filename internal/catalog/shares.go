package catalog

import "slices"

// fullShare reports the first space on path (root first) below root whose subtree holds at least
// share(its depth) of recorded, the paths (root first) of what the store keeps for good: with
// how many of them it holds and its share. Root's share is the whole store's bound, which the
// callers count themselves.
func fullShare(path []string, recorded [][]string, share func(depth int) int) (space string, n, limit int, full bool) {
	for depth, a := range path {
		if depth == 0 {
			continue
		}
		n := 0
		for _, p := range recorded {
			if slices.Contains(p, a) {
				n++
			}
		}
		if limit := share(depth); n >= limit {
			return a, n, limit, true
		}
	}
	return "", 0, 0, false
}
