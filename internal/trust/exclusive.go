package trust

import (
	"errors"
	"fmt"
	"slices"

	"github.com/brokerhq/broker/internal/config"
)

// ErrSharedSubject: a subject broker trust would print could match a `sub` that broker mints
// for another stack or for the other scope, so printing it could hand one stack's role to
// another, or the write role to a read (PROPOSED) run.
var ErrSharedSubject = errors.New("refusing to print a trust policy whose subject could match another stack's or scope's sub")

// checkExclusive refuses subjects (exact subs, or AWS StringLike patterns with "*" for the run
// id) of owner (a stack at a scope) when any of them could match a sub that one of templates
// renders for another stack or for the other scope. Configuration validation already rules this
// out; this is the last check before a policy reaches a cloud, and it does not trust that
// validation ran.
func checkExclusive(subjects, templates []string, owner config.SubjectOwner) error {
	for _, tmpl := range templates {
		if sub, example, ok := config.SubjectsMatchOther(subjects, tmpl, owner); ok {
			return fmt.Errorf("%w: subject %q of stack %s (%s) also matches %q, which template %q gives another stack or scope",
				ErrSharedSubject, sub, owner.CallerID, owner.Scope, example, config.EffectiveSubjectTemplate(tmpl))
		}
	}
	return nil
}

// templatesOf lists the distinct templates of cfg's spaces.
func templatesOf(cfg *config.Config) []string {
	var out []string
	for _, s := range cfg.Spaces {
		if t := config.EffectiveSubjectTemplate(s.SubjectTemplate); !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}
