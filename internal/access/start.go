package access

import (
	"fmt"

	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/runs"
)

// StartsPastReadPhases reports whether a run starting in phase p skips its read phases
// (INITIALIZING and PLANNING): for every run type that means starting in its write phase.
// Any phase other than those two counts, so a phase added to a row later is covered too.
func StartsPastReadPhases(p runs.Phase) bool {
	return p != "" && p != runs.Initializing && p != runs.Planning
}

// AllowedToStart returns nil when p may start a run of type t in phase phase in space. Starting
// a run takes run:create; starting it past its read phases is also the move to that phase,
// which only a key holding run:update may make (POST /v1/runs/{id}/phase needs it), so such a
// start takes both actions in space. Otherwise it returns an error wrapping ErrForbidden that
// names the key, what it tried and the action it lacks.
func (a *Authorizer) AllowedToStart(p Principal, t runs.Type, phase runs.Phase, space string) error {
	if err := a.Allowed(p, config.ActionRunCreate, space); err != nil {
		return err
	}
	if !StartsPastReadPhases(phase) {
		return nil
	}
	if err := a.Allowed(p, config.ActionRunUpdate, space); err != nil {
		return fmt.Errorf("%w: API key %q may not start a %s run in %s in space %q: a run starting past its read phases needs %s as well as %s",
			ErrForbidden, p.KeyID, t, phase, space, config.ActionRunUpdate, config.ActionRunCreate)
	}
	return nil
}
