package runs

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Phase machine errors. Every error the functions below return wraps one of them, with a
// message naming the run type and phases involved.
var (
	// ErrTransition reports a phase change the run's row does not allow (backwards, sideways,
	// out of a finished run, or to a phase the run type does not have).
	ErrTransition = errors.New("invalid phase transition")
	// ErrInvalidPhase reports a phase name that is unknown or not allowed where it was given.
	ErrInvalidPhase = errors.New("invalid phase")
	// ErrInvalidType reports an unknown run type.
	ErrInvalidType = errors.New("invalid run type")
)

// rows is contract section 4: each run type's phases, in order.
var rows = map[Type][]Phase{
	Proposed: {Initializing, Planning, Finished},
	Tracked:  {Initializing, Planning, Applying, Finished},
	Task:     {Initializing, Performing, Finished},
	Destroy:  {Initializing, Planning, Destroying, Finished},
}

// writePhases holds the one phase of each run type that carries write scope.
// PROPOSED has none.
var writePhases = map[Type]Phase{
	Tracked: Applying,
	Task:    Performing,
	Destroy: Destroying,
}

// Types returns every run type, in the contract's order.
func Types() []Type { return []Type{Proposed, Tracked, Task, Destroy} }

// AllPhases returns every phase name known to any run type.
func AllPhases() []Phase {
	return []Phase{Initializing, Planning, Applying, Performing, Destroying, Finished}
}

// Phases returns the phases of run type t in order, and false when t is not a run type.
// The slice is a copy the caller may modify.
func Phases(t Type) ([]Phase, bool) {
	row, ok := rows[t]
	if !ok {
		return nil, false
	}
	return slices.Clone(row), true
}

// ParseType returns the run type named exactly s (upper case), or an error wrapping
// ErrInvalidType.
func ParseType(s string) (Type, error) {
	t := Type(s)
	if _, ok := rows[t]; !ok {
		return "", fmt.Errorf("%w: %q is not one of PROPOSED, TRACKED, TASK, DESTROY", ErrInvalidType, s)
	}
	return t, nil
}

// ParsePhase returns the phase named exactly s (upper case), or an error wrapping
// ErrInvalidPhase. It does not check that the phase belongs to any particular run type.
func ParsePhase(s string) (Phase, error) {
	p := Phase(s)
	if !slices.Contains(AllPhases(), p) {
		return "", fmt.Errorf("%w: %q is not a run phase", ErrInvalidPhase, s)
	}
	return p, nil
}

// WritePhase returns the phase in which a run of type t has write scope, and false when it
// has none (PROPOSED, or an unknown type).
func WritePhase(t Type) (Phase, bool) {
	p, ok := writePhases[t]
	return p, ok
}

// ScopeOf returns the scope a run of type t carries in phase p: Write only in the type's
// write phase, Read otherwise (including FINISHED and any unknown type or phase).
func ScopeOf(t Type, p Phase) Scope {
	if wp, ok := writePhases[t]; ok && wp == p {
		return Write
	}
	return Read
}

// CheckTransition reports whether a run of type t may move from phase from to phase to: both
// must be in the type's row and to must come strictly later than from. Skipping phases forward
// is allowed (a TRACKED run with nothing to apply goes from PLANNING to FINISHED). Any other
// move returns an error wrapping ErrTransition.
func CheckTransition(t Type, from, to Phase) error {
	row, ok := rows[t]
	if !ok {
		return fmt.Errorf("%w: %s is not a run type", ErrTransition, shown(string(t)))
	}
	i := slices.Index(row, from)
	if i < 0 {
		return fmt.Errorf("%w: %s is not a phase of a %s run", ErrTransition, shown(string(from)), t)
	}
	if from == Finished {
		return fmt.Errorf("%w: run is already FINISHED", ErrTransition)
	}
	j := slices.Index(row, to)
	if j < 0 {
		return fmt.Errorf("%w: %s is not a phase of a %s run", ErrTransition, shown(string(to)), t)
	}
	if j == i {
		return fmt.Errorf("%w: run is already %s", ErrTransition, to)
	}
	if j < i {
		return fmt.Errorf("%w: cannot move a %s run from %s to %s", ErrTransition, t, from, to)
	}
	return nil
}

// CheckInitialPhase reports whether a run of type t may start in phase p: p must be in the
// type's row and not FINISHED. It returns an error wrapping ErrInvalidType for an unknown type
// and ErrInvalidPhase otherwise.
func CheckInitialPhase(t Type, p Phase) error {
	row, ok := rows[t]
	if !ok {
		return fmt.Errorf("%w: %q is not one of PROPOSED, TRACKED, TASK, DESTROY", ErrInvalidType, string(t))
	}
	if !slices.Contains(row, p) {
		return fmt.Errorf("%w: %s is not a phase of a %s run", ErrInvalidPhase, shown(string(p)), t)
	}
	if p == Finished {
		return fmt.Errorf("%w: a run cannot start FINISHED", ErrInvalidPhase)
	}
	return nil
}

// shown renders a name for an error message, making an empty one visible.
func shown(name string) string {
	if name == "" {
		return `""`
	}
	return name
}

// MoveTo returns r moved to phase p, with the scope p carries, if the phase machine allows it;
// otherwise it returns an error wrapping ErrTransition.
func (r Run) MoveTo(p Phase) (Run, error) {
	if err := CheckTransition(r.RunType, r.Phase, p); err != nil {
		return Run{}, err
	}
	r.Phase = p
	r.Scope = ScopeOf(r.RunType, p)
	return r, nil
}

// ErrCorrupt reports a run record that contradicts the phase machine: an unknown run type, a
// phase not in the type's row, or a stored scope other than the one the type and phase carry.
// Such a record was damaged or edited outside broker; nothing may be issued for it.
var ErrCorrupt = errors.New("inconsistent run record")

// maxShown bounds how much of a stored name an ErrCorrupt message repeats.
const maxShown = 40

// EffectiveScope is the one place a run's scope is decided for anything it is given: it derives
// the scope from the run type and phase (ScopeOf) and returns it only when the record is
// consistent. A record whose type or phase is unknown, whose phase is not in its type's row, or
// whose stored Scope differs from the derived one returns an error wrapping ErrCorrupt, so a
// PROPOSED record edited to "scope": "write" never reaches write.
func (r Run) EffectiveScope() (Scope, error) {
	row, ok := rows[r.RunType]
	if !ok {
		return "", fmt.Errorf("%w: run %s has run type %s, which is not a run type", ErrCorrupt, clip(r.ID), clip(string(r.RunType)))
	}
	if !slices.Contains(row, r.Phase) {
		return "", fmt.Errorf("%w: run %s is a %s run in phase %s, which is not a phase of its type", ErrCorrupt, clip(r.ID), r.RunType, clip(string(r.Phase)))
	}
	want := ScopeOf(r.RunType, r.Phase)
	if r.Scope != want {
		return "", fmt.Errorf("%w: run %s is a %s run in %s, which carries scope %s, but its record says %s", ErrCorrupt, clip(r.ID), r.RunType, r.Phase, want, clip(string(r.Scope)))
	}
	return want, nil
}

// clip renders a stored name for an error message: quoted when odd, cut to maxShown bytes.
func clip(name string) string {
	if len(name) > maxShown {
		name = name[:maxShown] + "..."
	}
	if name == "" || strings.ContainsFunc(name, func(c rune) bool { return c <= ' ' || c == '"' || c > '~' }) {
		return fmt.Sprintf("%q", name)
	}
	return name
}
