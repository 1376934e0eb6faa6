package config

import "strings"

// MaxSpaceDepth bounds how deep spaces nest, root at depth 1. Each space's path and `sub` (with
// {spacePath}) grow with its depth, and every change rebuilds each path on every replica.
const MaxSpaceDepth = 32

// checkCycles reports each parent cycle once, at the first space of the cycle in file order,
// and (with fileRules) each space that lies deeper than MaxSpaceDepth where it first does (its
// branch's deeper spaces are not reported again). It walks each space's chain of parents once: a walk stops at
// a space an earlier walk settled.
func (v *validator) checkCycles() {
	c := v.c
	depth := make(map[string]int, len(c.Spaces)) // settled spaces; 0 for one in or under a cycle
	at := map[string]int{}                       // the spaces of the walk in progress, by position
	for i, s := range c.Spaces {
		if j, ok := v.spaces[s.ID]; !ok || j != i {
			continue
		}
		if _, settled := depth[s.ID]; settled {
			continue
		}
		chain := []int{i}
		at[s.ID] = 0
		base, cycle := 0, -1
		for cur := s; cur.Parent != ""; {
			j, ok := v.spaces[cur.Parent]
			if !ok {
				break // reported by checkSpaces
			}
			if d, settled := depth[cur.Parent]; settled {
				base = d
				if d == 0 {
					cycle = len(chain) // below a cycle: no depth
				}
				break
			}
			if k, loop := at[cur.Parent]; loop {
				v.reportCycle(chain[k:])
				cycle = k
				break
			}
			at[cur.Parent] = len(chain)
			chain = append(chain, j)
			cur = c.Spaces[j]
		}
		for k := len(chain) - 1; k >= 0; k-- {
			id := c.Spaces[chain[k]].ID
			delete(at, id)
			if cycle >= 0 {
				depth[id] = 0
				continue
			}
			base++
			depth[id] = base
			if base == MaxSpaceDepth+1 && v.fileRules {
				v.add(joinIndex("spaces", chain[k])+".parent", c.Spaces[chain[k]].Parent,
					"space %q would be %d levels deep; spaces nest at most %d deep (root is 1)", id, base, MaxSpaceDepth)
			}
		}
	}
}

// reportCycle reports the cycle of the spaces at indexes in (each one's parent the next, the
// last's the first) at the one first in file order, as the cycle seen from there.
func (v *validator) reportCycle(in []int) {
	first := 0
	for k, i := range in {
		if i < in[first] {
			first = k
		}
	}
	ids := make([]string, 0, len(in)+1)
	for k := range in {
		ids = append(ids, v.c.Spaces[in[(first+k)%len(in)]].ID)
	}
	ids = append(ids, ids[0])
	s := v.c.Spaces[in[first]]
	v.add(joinIndex("spaces", in[first])+".parent", s.Parent, "parent cycle: %s", strings.Join(ids, " -> "))
}
