package catalog

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/brokerhq/broker/internal/config"
)

// Change refusals. A *ChangeError wraps exactly one of them.
var (
	// ErrInvalid: the object breaks a rule (400).
	ErrInvalid = errors.New("invalid object")
	// ErrNotFound: the object, or one it refers to, does not exist (404).
	ErrNotFound = errors.New("not found")
	// ErrConflict: the change clashes with other objects or the object is in use (409).
	ErrConflict = errors.New("conflict")
	// ErrManagedByConfig: the object belongs to the configuration file (409).
	ErrManagedByConfig = errors.New("managed by the configuration file")
	// ErrPrecondition: If-Match named another version (412).
	ErrPrecondition = errors.New("version does not match")
)

// ChangeError is a refused change: which rule, the field of the changed object at fault (in
// the API's camelCase, empty when the whole object is), and one message per problem.
type ChangeError struct {
	Kind     error
	Field    string
	Messages []string
}

// Error joins the problems.
func (e *ChangeError) Error() string {
	msg := strings.Join(e.Messages, "; ")
	if e.Field != "" {
		return e.Field + ": " + msg
	}
	return msg
}

// Unwrap exposes the kind of refusal to errors.Is.
func (e *ChangeError) Unwrap() error { return e.Kind }

func refusal(kind error, format string, args ...any) *ChangeError {
	return &ChangeError{Kind: kind, Messages: []string{fmt.Sprintf(format, args...)}}
}

var pathIndexRE = regexp.MustCompile(`^([a-z_]+)\[(\d+)\]\.?(.*)$`)

// classify turns the validation problems of the merged objects into a change refusal. self is
// the changed object's path prefix in the merged lists ("stacks[12]"), empty for a deletion.
// Problems of the changed object itself are invalid (or not found, for a reference); problems
// it causes elsewhere are conflicts naming the object affected.
func classify(errs config.Errors, merged *config.Config, self string) *ChangeError {
	var own, others []*config.FieldError
	for _, fe := range errs {
		if self != "" && (fe.Path == self || strings.HasPrefix(fe.Path, self+".") || strings.HasPrefix(fe.Path, self+"[")) {
			own = append(own, fe)
		} else {
			others = append(others, fe)
		}
	}
	for _, fe := range own {
		if fe.Conflict {
			return &ChangeError{Kind: ErrConflict, Messages: []string{fe.Msg}}
		}
	}
	if len(own) > 0 {
		fe := own[0]
		kind := ErrInvalid
		if fe.Missing {
			kind = ErrNotFound
		}
		field := config.CamelPath(strings.TrimPrefix(strings.TrimPrefix(fe.Path, self), "."))
		out := &ChangeError{Kind: kind, Field: field}
		for _, o := range own {
			if o.Path == fe.Path {
				out.Messages = append(out.Messages, o.Msg)
			}
		}
		return out
	}
	out := &ChangeError{Kind: ErrConflict}
	for _, fe := range others {
		out.Messages = append(out.Messages, describeAt(merged, fe))
	}
	if len(out.Messages) == 0 {
		out.Messages = []string{"the change was refused"}
	}
	return out
}

// describeAt names the object a problem was found on: `stack "vpc": space "x" does not exist`.
func describeAt(merged *config.Config, fe *config.FieldError) string {
	m := pathIndexRE.FindStringSubmatch(fe.Path)
	if m == nil {
		return fe.Msg
	}
	i, _ := strconv.Atoi(m[2])
	var name string
	switch m[1] {
	case "spaces":
		name = at(merged.Spaces, i, func(s config.Space) string { return `space "` + s.ID + `"` })
	case "stacks":
		name = at(merged.Stacks, i, func(s config.Stack) string { return `stack "` + s.ID + `"` })
	case "integrations":
		name = at(merged.Integrations, i, func(s config.Integration) string { return `integration "` + s.ID + `"` })
	case "attachments":
		name = at(merged.Attachments, i, func(a config.Attachment) string {
			return fmt.Sprintf("attachment of %q to stack %q", a.Integration, a.Stack)
		})
	case "roles":
		name = at(merged.Roles, i, func(r config.Role) string { return `role "` + r.ID + `"` })
	case "api_keys":
		name = at(merged.APIKeys, i, func(k config.APIKey) string { return `API key "` + k.ID + `"` })
	}
	if name == "" {
		return fe.Msg
	}
	return name + ": " + fe.Msg
}

func at[T any](s []T, i int, name func(T) string) string {
	if i < 0 || i >= len(s) {
		return ""
	}
	return name(s[i])
}

// inUse words the refusal of deleting r that other objects still refer to: each message
// `API key "kb": space "bnd" does not exist` (what the catalog would hold without r) becomes
// `space "bnd" is still in use: API key "kb" refers to it`.
func inUse(ce *ChangeError, r Ref) {
	if ce.Kind != ErrConflict {
		return
	}
	name := strings.ReplaceAll(string(r.Kind), "api_key", "API key")
	for i, msg := range ce.Messages {
		if m := referrerRE.FindStringSubmatch(msg); m != nil {
			ce.Messages[i] = fmt.Sprintf("%s %q is still in use: %s refers to it", name, r.ID, m[1])
		}
	}
}

// referrerRE matches the name describeAt puts before a problem.
var referrerRE = regexp.MustCompile(`^((?:space|stack|integration|role|API key) "[^"]+"|attachment of "[^"]+" to stack "[^"]+"): `)
