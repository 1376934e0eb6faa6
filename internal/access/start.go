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

// AllowedToStart returns nil when p may start run: only its Space, Type and Phase count, and an
// empty Phase is INITIALIZING as for runs.New. Starting a run takes run:create; starting it past
// its read phases is also the move to that phase, which only a key holding run:update may make
// (POST /v1/runs/{id}/phase needs it), so such a start takes both actions in the run's space.
// Otherwise it returns an error wrapping ErrForbidden that names the key, what it tried and the
// action it lacks.
func (a *Authorizer) AllowedToStart(p Principal, run runs.NewRun) error {
	if err := a.Allowed(p, config.ActionRunCreate, run.Space); err != nil {
		return err
	}
	if !StartsPastReadPhases(run.Phase) {
		return nil
	}
	if err := a.Allowed(p, config.ActionRunUpdate, run.Space); err != nil {
		return fmt.Errorf("%w: API key %q may not start a %s run in %s in space %q: a run starting past its read phases needs %s as well as %s",
			ErrForbidden, p.KeyID, run.Type, run.Phase, run.Space, config.ActionRunUpdate, config.ActionRunCreate)
	}
	return nil
}
