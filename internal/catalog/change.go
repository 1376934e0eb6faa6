package catalog

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
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
// the API's camelCase, empty when the whole object is), and one message per problem. Messages
// quote nothing of objects the caller may not read; what they leave out is in Withheld.
type ChangeError struct {
	Kind     error
	Field    string
	Messages []string
	// Withheld is each problem Messages tells only in part, in full: a subject template
	// overlapping another space's, quoting that space's template and an example sub. It is for
	// the server log, never for the caller.
	Withheld []string
}

// Error joins the problems as Messages tell them (never Withheld).
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
//
// A subject template overlapping another space's is told without quoting the other space (its
// id, its template, an example sub), since the caller may hold no binding on it: whichever of
// the two spaces validation found it on, a change of a space answers it as a problem of its
// own subject template. The full problem goes to Withheld.
func classify(errs config.Errors, merged *config.Config, self string) *ChangeError {
	var own, others []*config.FieldError
	inSelf := func(path string) bool {
		return self != "" && (path == self || strings.HasPrefix(path, self+".") || strings.HasPrefix(path, self+"["))
	}
	selfSpace := strings.HasPrefix(self, listName[KindSpace]+"[")
	// pathOf is where a problem of own lies in the changed object: an overlap found on the
	// other space of the pair (the later one in the list) lies in this one's template, whose
	// change made it all the same.
	pathOf := func(fe *config.FieldError) string {
		if inSelf(fe.Path) {
			return fe.Path
		}
		return self + ".subject_template"
	}
	for _, fe := range errs {
		if inSelf(fe.Path) || selfSpace && config.IsTemplateOverlap(fe) {
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
		path := pathOf(fe)
		field := config.CamelPath(strings.TrimPrefix(strings.TrimPrefix(path, self), "."))
		out := &ChangeError{Kind: kind, Field: field}
		for _, o := range own {
			if pathOf(o) == path {
				out.tell(merged, o, o.Msg)
			}
		}
		return out
	}
	out := &ChangeError{Kind: ErrConflict}
	for _, fe := range others {
		out.tell(merged, fe, describeAt(merged, fe))
	}
	if len(out.Messages) == 0 {
		out.Messages = []string{"the change was refused"}
	}
	return out
}

// tell adds the problem fe of merged to e's messages as msg, or, when fe quotes another space
// (a template overlap), as config.TemplateOverlapMessage (once) with fe in full in Withheld.
func (e *ChangeError) tell(merged *config.Config, fe *config.FieldError, msg string) {
	if !config.IsTemplateOverlap(fe) {
		e.Messages = append(e.Messages, msg)
		return
	}
	e.Withheld = append(e.Withheld, describeAt(merged, fe))
	if !slices.Contains(e.Messages, config.TemplateOverlapMessage) {
		e.Messages = append(e.Messages, config.TemplateOverlapMessage)
	}
}

// describeAt names the object a problem was found on: `stack "vpc": space "x" does not exist`.
func describeAt(merged *config.Config, fe *config.FieldError) string {
	if name := referrer(merged, fe); name != "" {
		return name + ": " + fe.Msg
	}
	return fe.Msg
}

// referrer names the object of merged a problem was found on (`stack "vpc"`), "" when its path
// names none.
func referrer(merged *config.Config, fe *config.FieldError) string {
	m := pathIndexRE.FindStringSubmatch(fe.Path)
	if m == nil {
		return ""
	}
	i, _ := strconv.Atoi(m[2])
	named := func(kind Kind, id string) string { return fmt.Sprintf("%s %q", kindNoun[kind], id) }
	switch m[1] {
	case "spaces":
		return at(merged.Spaces, i, func(s config.Space) string { return named(KindSpace, s.ID) })
	case "stacks":
		return at(merged.Stacks, i, func(s config.Stack) string { return named(KindStack, s.ID) })
	case "integrations":
		return at(merged.Integrations, i, func(s config.Integration) string { return named(KindIntegration, s.ID) })
	case "attachments":
		return at(merged.Attachments, i, func(a config.Attachment) string {
			return fmt.Sprintf("attachment of %q to stack %q", a.Integration, a.Stack)
		})
	case "roles":
		return at(merged.Roles, i, func(r config.Role) string { return named(KindRole, r.ID) })
	case "api_keys":
		return at(merged.APIKeys, i, func(k config.APIKey) string { return named(KindAPIKey, k.ID) })
	}
	return ""
}

func at[T any](s []T, i int, name func(T) string) string {
	if i < 0 || i >= len(s) {
		return ""
	}
	return name(s[i])
}

// inUse is the refusal of deleting r that other objects of merged (the catalog without r)
// still refer to, errs being what validating it found: each problem found on an object reads
// `space "bnd" is still in use: API key "kb" refers to it`.
func inUse(errs config.Errors, merged *config.Config, r Ref) *ChangeError {
	out := &ChangeError{Kind: ErrConflict}
	for _, fe := range errs {
		msg := describeAt(merged, fe)
		if name := referrer(merged, fe); name != "" {
			msg = fmt.Sprintf("%s %q is still in use: %s refers to it", kindNoun[r.Kind], r.ID, name)
		}
		out.Messages = append(out.Messages, msg)
	}
	return out
}
