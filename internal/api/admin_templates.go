package api

import (
	"fmt"
	"maps"

	"github.com/brokerhq/broker/internal/apierror"
	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/config"
)

// newTemplateFits refuses a space whose subject template would make the spaces hold more
// distinct templates than both config.MaxSubjectTemplates and they hold now, or would make the
// subtree of the space or of an ancestor below root hold more non-default ones than both that
// subtree's config.SubtreeTemplateShare and it holds now: every validation compares every pair,
// on every replica, at each change, and no one subtree may spend the whole cap. A template
// another space holds still counts in the shares of the subtrees that take it (a copy keeps it
// alive when its holder changes), and a space moved counts its subtree's templates in its new
// ancestors' shares. A space keeping its template and its place is never refused.
func newTemplateFits(c *catalog.Catalog, id string, obj any) error {
	space := obj.(config.Space)
	spaces := c.Objects().Spaces
	t := config.EffectiveSubjectTemplate(space.SubjectTemplate)
	now, others := map[string]bool{}, map[string]bool{}
	for _, s := range spaces {
		st := config.EffectiveSubjectTemplate(s.SubjectTemplate)
		now[st] = true
		if s.ID != id {
			others[st] = true
		}
	}
	after := len(others)
	if !others[t] {
		after++
	}
	if after > len(now) && after > config.MaxSubjectTemplates {
		return apierror.New(apierror.CodeInvalidRequest, "The request is not valid: %s.", fieldProblem("subjectTemplate",
			fmt.Sprintf("the spaces hold %d distinct subject templates already, the most the API adds (the default counts as one): use one of theirs", len(now))))
	}
	return templateShareFits(spaces, space)
}

// templateShareFits refuses space (as put over spaces) when the subtree of the space, or of an
// ancestor below root, would hold more distinct non-default templates than both its
// config.SubtreeTemplateShare and what it holds now. The refusal names the space or its parent,
// which the caller administers; an ancestor above them only in the log. A parent chain that loops is left to
// validation, which refuses it.
func templateShareFits(spaces []config.Space, space config.Space) error {
	before := spaceTree{}
	for _, s := range spaces {
		before[s.ID] = s
	}
	afterTree := maps.Clone(before)
	afterTree[space.ID] = space
	chain, ok := afterTree.ancestors(space.ID)
	if !ok {
		return nil
	}
	had, has := before.templatesUnder(chain), afterTree.templatesUnder(chain)
	for i, a := range chain {
		share := config.SubtreeTemplateShare(len(chain) - i)
		if has[a] <= share || has[a] <= had[a] {
			continue
		}
		if i > 1 {
			// Above the parent (whose admin the caller holds) the caller may hold no binding:
			// that ancestor, and that its subtree is full of other teams' templates, go to the
			// log only.
			return &catalog.ChangeError{Kind: catalog.ErrInvalid, Field: "subjectTemplate", Messages: []string{fmt.Sprintf(
				"a subtree this space lies in holds its share of the distinct subject templates the API adds (half its parent's share, root's being %d): use one the spaces hold",
				config.MaxSubjectTemplates)},
				Withheld: []string{fmt.Sprintf("space %q: the subtree of space %q holds %d distinct subject templates, past its share of %d",
					space.ID, a, has[a], share)}}
		}
		return apierror.New(apierror.CodeInvalidRequest, "The request is not valid: %s.", fieldProblem("subjectTemplate",
			fmt.Sprintf("the subtree of space %q may hold at most %d distinct subject templates through the API, the default left out (its share of the %d: half its parent's): use one the spaces hold",
				a, share, config.MaxSubjectTemplates)))
	}
	return nil
}

// spaceTree is the spaces by id.
type spaceTree map[string]config.Space

// ancestors lists id and its ancestors up to, not including, root, nearest first; false when
// the parent chain loops or does not reach root.
func (t spaceTree) ancestors(id string) ([]string, bool) {
	var chain []string
	for id != config.RootSpace {
		s, ok := t[id]
		if !ok || len(chain) > len(t) {
			return nil, false
		}
		chain = append(chain, id)
		id = s.Parent
	}
	return chain, true
}

// templatesUnder counts, for each of the spaces of chain, the distinct non-default effective
// templates its subtree holds.
func (t spaceTree) templatesUnder(chain []string) map[string]int {
	sets := map[string]map[string]bool{}
	for _, a := range chain {
		sets[a] = map[string]bool{}
	}
	for id, s := range t {
		st := config.EffectiveSubjectTemplate(s.SubjectTemplate)
		if st == config.DefaultSubjectTemplate {
			continue
		}
		// Up from the space to root, each space once at most (a looping chain stops).
		for at, steps := id, 0; at != config.RootSpace && steps <= len(t); steps++ {
			if set, ok := sets[at]; ok {
				set[st] = true
			}
			up, ok := t[at]
			if !ok {
				break
			}
			at = up.Parent
		}
	}
	counts := make(map[string]int, len(chain))
	for a, set := range sets {
		counts[a] = len(set)
	}
	return counts
}
