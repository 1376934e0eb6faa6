package trust

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/exchange"
	"github.com/brokerhq/broker/internal/runs"
)

// sharing returns the target of every (stack, scope) whose attachment reaches the cloud through
// the same cloud-side object as t (one AWS role, one GCP workload identity provider, one Vault
// role), as same tells of an integration of t's provider. Installing that object for one of them
// replaces it for the others, so what is printed for t must serve them all. t is among them, and
// they come ordered by stack, scope and integration whichever of them t is, so each prints the
// same, as a configuration file and a live broker holding the same objects do. A
// stack that shares the object but cannot be rendered (its subjects could match another stack's)
// fails the whole: printing the object without it would lock that stack out when pasted.
func (r *resolver) sharing(t *target, same func(config.Integration) bool) ([]*target, error) {
	var out []*target
	seen := map[Request]bool{}
	self := false
	for _, at := range r.cfg.EffectiveAttachments() {
		in, ok := r.cfg.Integration(at.Integration)
		if !ok || in.Provider() != t.req.Provider || !same(in) {
			continue
		}
		for _, scope := range []runs.Scope{runs.Read, runs.Write} {
			if (scope == runs.Read && !at.Read) || (scope == runs.Write && !at.Write) {
				continue
			}
			req := Request{Provider: t.req.Provider, Stack: at.Stack, Scope: scope, Integration: in.ID, AWSPrincipal: t.req.AWSPrincipal}
			if seen[req] {
				continue
			}
			seen[req] = true
			if req.Stack == t.req.Stack && req.Scope == t.req.Scope && in.ID == t.integration.ID {
				self = true
				out = append(out, t)
				continue
			}
			other, err := r.resolve(req)
			if errors.Is(err, exchange.ErrNotAttachedForScope) {
				continue // another attachment of the stack takes this scope's place
			}
			if err != nil {
				return nil, fmt.Errorf("stack %s (%s) shares it through integration %s: %w", at.Stack, scope, in.ID, err)
			}
			out = append(out, other)
		}
	}
	if !self {
		out = append(out, t)
	}
	slices.SortFunc(out, func(x, y *target) int {
		return cmp.Or(strings.Compare(x.stack.ID, y.stack.ID), strings.Compare(string(x.req.Scope), string(y.req.Scope)),
			strings.Compare(x.integration.ID, y.integration.ID))
	})
	return out, nil
}
