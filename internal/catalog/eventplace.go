package catalog

import (
	"slices"

	"github.com/brokerhq/broker/internal/config"
)

// EventPlace is where the audit event of an object's change is filed: its space (never empty),
// stack and integration, and further spaces whose listings show it.
type EventPlace struct {
	Space, Stack, Integration string
	Also                      []string
}

// also adds space to p.Also, unless p is filed there already.
func (p *EventPlace) also(space string) {
	if space != "" && space != p.Space && !slices.Contains(p.Also, space) {
		p.Also = append(p.Also, space)
	}
}

// homeOf is where the admin API files a change of obj, c placing its spaces: a space under its
// own id; a stack or an integration under its space; an attachment under its stack's space in
// c; an API key under every space it is bound on; anything else (a role) under root.
func homeOf(obj any, c *Catalog) EventPlace {
	p := EventPlace{Space: config.RootSpace}
	switch o := obj.(type) {
	case config.Space:
		p.Space = o.ID
	case config.Stack:
		p.Space, p.Stack = o.Space, o.ID
	case config.Integration:
		p.Space, p.Integration = o.Space, o.ID
	case config.Attachment:
		p.Stack, p.Integration = o.Stack, o.Integration
		if s, ok := stackSpaceIn(c, o.Stack); ok {
			p.Space = s
		}
	case config.APIKey:
		for i, b := range o.Bindings {
			if i == 0 {
				p.Space = b.Space
			}
			p.also(b.Space)
		}
	}
	if p.Space == "" {
		p.Space = config.RootSpace
	}
	return p
}

// leftPlace is the place a change of obj may move it out of: a space's parent, a stack's or an
// integration's space ("" for the other kinds).
func leftPlace(obj any) string {
	switch o := obj.(type) {
	case config.Space:
		return o.Parent
	case config.Stack:
		return o.Space
	case config.Integration:
		return o.Space
	}
	return ""
}

// ChangePlace is where the event of a change is filed, by the admin API and by a replica
// writing the change back alike, c placing stacks (an attachment is filed under its stack's
// space): a put of after where after is (see homeOf), and also where before (the object it
// replaced, nil when it created one) was, when the change moves it; a deletion (after nil) of
// before where before was, and also in the space it was in (a space's parent, a stack's or an
// integration's space), which may be gone with it.
func ChangePlace(before, after any, c *Catalog) EventPlace {
	if after == nil {
		p := homeOf(before, c)
		p.also(leftPlace(before))
		return p.shared(c)
	}
	p := homeOf(after, c)
	if before != nil && leftPlace(before) != leftPlace(after) {
		p.also(leftPlace(before))
	}
	return p.shared(c)
}

// PlaceUnder is where an event concerning each of spaces (root when none) is filed, c placing
// them: under the first and also under the others, its Space their lowest common ancestor when
// one of them lies outside the others' line (see shared).
func PlaceUnder(c *Catalog, spaces ...string) EventPlace {
	p := EventPlace{Space: config.RootSpace}
	if len(spaces) > 0 {
		p.Space = spaces[0]
		for _, s := range spaces[1:] {
			p.also(s)
		}
	}
	return p.shared(c)
}

// shared is p with its Space, which every listing showing the event returns, the lowest common
// ancestor of the spaces it is filed under, when one of them lies outside the others' line:
// the auditors of one team read no other team's space id in it. p.Space joins p.Also.
func (p EventPlace) shared(c *Catalog) EventPlace {
	if c == nil || len(p.Also) == 0 {
		return p
	}
	common := c.SpacePath(p.Space)
	if common == nil {
		return p
	}
	for _, a := range p.Also {
		path := c.SpacePath(a)
		if path == nil || slices.Contains(c.SpacePath(p.Space), a) {
			continue
		}
		n := 0
		for n < len(common) && n < len(path) && common[n] == path[n] {
			n++
		}
		common = common[:n]
	}
	if len(common) == 0 || common[len(common)-1] == p.Space {
		return p
	}
	out := EventPlace{Space: common[len(common)-1], Stack: p.Stack, Integration: p.Integration,
		Also: slices.Clone(p.Also)}
	out.also(p.Space)
	return out
}
