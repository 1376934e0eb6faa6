package claims

import (
	"fmt"

	"github.com/brokerhq/broker/internal/config"
)

// Spaces resolves, per space, the parsed `sub` template and the path from root, computed once
// from the configuration so that minting does no parsing.
type Spaces struct {
	byID map[string]spaceInfo
}

type spaceInfo struct {
	template Template
	path     []string
}

// NewSpaces parses every space's template and computes every space's path from root.
func NewSpaces(cfg *config.Config) (*Spaces, error) {
	paths := make(map[string][]string, len(cfg.Spaces))
	for _, s := range cfg.Spaces {
		paths[s.ID] = cfg.SpacePath(s.ID)
	}
	return SpacesFrom(cfg.Spaces, paths)
}

// SpacesFrom parses every space's template, with each space's path from root given in paths.
func SpacesFrom(spaces []config.Space, paths map[string][]string) (*Spaces, error) {
	out := &Spaces{byID: make(map[string]spaceInfo, len(spaces))}
	parsed := map[string]Template{} // most spaces share a template
	for _, s := range spaces {
		tmpl, ok := parsed[s.SubjectTemplate]
		if !ok {
			var err error
			if tmpl, err = ParseTemplate(s.SubjectTemplate); err != nil {
				return nil, fmt.Errorf("space %s: %w", s.ID, err)
			}
			parsed[s.SubjectTemplate] = tmpl
		}
		path := paths[s.ID]
		if path == nil {
			return nil, fmt.Errorf("space %s is not in the tree under %s", s.ID, config.RootSpace)
		}
		out.byID[s.ID] = spaceInfo{template: tmpl, path: path}
	}
	return out, nil
}

// Subject renders the `sub` of a run in space spaceID. ok is false for an unknown space.
func (s *Spaces) Subject(subj Subject) (sub string, ok bool) {
	info, ok := s.byID[subj.SpaceID]
	if !ok {
		return "", false
	}
	subj.SpacePath = info.path
	return info.template.Render(subj), true
}
