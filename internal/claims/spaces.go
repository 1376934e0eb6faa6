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

// NewSpaces parses every space's template and computes every space's path. The configuration
// must already be valid (no cycles, parents exist).
func NewSpaces(cfg *config.Config) (*Spaces, error) {
	parent := make(map[string]string, len(cfg.Spaces))
	for _, s := range cfg.Spaces {
		parent[s.ID] = s.Parent
	}
	out := &Spaces{byID: make(map[string]spaceInfo, len(cfg.Spaces))}
	for _, s := range cfg.Spaces {
		tmpl, err := ParseTemplate(s.SubjectTemplate)
		if err != nil {
			return nil, fmt.Errorf("space %s: %w", s.ID, err)
		}
		var path []string
		for id := s.ID; id != ""; id = parent[id] {
			if len(path) > len(cfg.Spaces) {
				return nil, fmt.Errorf("space %s: parent cycle", s.ID)
			}
			path = append([]string{id}, path...)
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
