package trust

import (
	"fmt"

	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/runs"
)

// ReadBesideWrite lists ("stack (read) through integration") the attachments for read whose
// integration grants the cloud identity of req's integration (see GrantedIdentity) when stacks
// are also attached to that identity for write; nil when none are, or none read. What broker
// trust prints for that identity admits both, so read-scope tokens, a pull request's among
// them, take what write runs take: an operator pasting it should know.
func ReadBesideWrite(cfg *config.Config, req Request) ([]string, error) {
	r, err := newResolver(cfg)
	if err != nil {
		return nil, err
	}
	t, err := r.resolve(req)
	if err != nil {
		return nil, err
	}
	identity := GrantedIdentity(t.integration)
	if identity == "" {
		return nil, nil
	}
	var reads []string
	writes := false
	for _, at := range cfg.EffectiveAttachments() {
		in, ok := cfg.Integration(at.Integration)
		if !ok || GrantedIdentity(in) != identity {
			continue
		}
		writes = writes || at.Write
		if at.Read {
			reads = append(reads, fmt.Sprintf("%s (%s) through %s", at.Stack, runs.Read, at.Integration))
		}
	}
	if !writes {
		return nil, nil
	}
	return reads, nil
}
