package config

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// SubjectPlaceholders are the names (without braces) a space's subject_template may use.
var SubjectPlaceholders = []string{
	"spaceId", "spacePath", "callerType", "callerId", "runId", "runType", "runPhase", "scope",
}

// Actions lists every action a role may hold.
var Actions = []string{ActionRunCreate, ActionRunRead, ActionRunUpdate, ActionAuditRead, ActionSpaceAdmin}

var sha256HexRE = regexp.MustCompile(`^[0-9a-f]{64}$`)

func (v *validator) checkSpaces() {
	c := v.c
	for i, s := range c.Spaces {
		base := joinIndex("spaces", i)
		if j, ok := v.spaces[s.ID]; ok && j != i {
			continue // a duplicate, reported already
		}
		switch {
		case s.ID == RootSpace && s.Parent != "":
			v.add(base+".parent", s.Parent, "the root space cannot have a parent (got %q)", s.Parent)
		case s.ID != RootSpace && s.Parent == "":
			v.add(base+".parent", "", "required: every space but root has a parent")
		case s.ID != RootSpace && !v.exists(v.spaces, s.Parent):
			v.add(base+".parent", s.Parent, "space %q does not exist", s.Parent)
			v.errs[len(v.errs)-1].Missing = true
		}
		for _, p := range v.templateProblems(s.SubjectTemplate) {
			v.add(base+".subject_template", s.SubjectTemplate, "%s in %q", p, s.SubjectTemplate)
		}
	}
	v.checkTemplateOverlaps()
	v.checkCycles()
}

// TemplatePart is a piece of a subject template: literal text, or a placeholder name (without
// braces) when Placeholder is set.
type TemplatePart struct {
	Literal     string
	Placeholder string
}

// SplitSubjectTemplate splits a subject template into literal text and placeholders, and lists
// every problem: unknown placeholders and unbalanced braces, then (when there are none) the
// rules of subject_rules.go. It is the one grammar of subject_template; config validation
// reports its problems and package claims renders its parts.
func SplitSubjectTemplate(t string) (parts []TemplatePart, problems []string) {
	parts, problems = splitTemplateParts(t)
	if len(problems) == 0 {
		problems = ruleProblems(t, parts)
	}
	return parts, problems
}

// splitTemplateParts is SplitSubjectTemplate without the rules: it lists only unknown
// placeholders and unbalanced braces.
func splitTemplateParts(t string) (parts []TemplatePart, problems []string) {
	lit := 0 // start of the pending literal
	flush := func(end int) {
		if end > lit {
			parts = append(parts, TemplatePart{Literal: t[lit:end]})
		}
	}
	for i := 0; i < len(t); i++ {
		switch t[i] {
		case '}':
			problems = append(problems, fmt.Sprintf("unbalanced '}' at offset %d", i))
		case '{':
			j := strings.IndexAny(t[i+1:], "{}")
			if j < 0 || t[i+1+j] == '{' {
				problems = append(problems, fmt.Sprintf("unbalanced '{' at offset %d", i))
				continue
			}
			name := t[i+1 : i+1+j]
			if !slices.Contains(SubjectPlaceholders, name) {
				problems = append(problems, fmt.Sprintf("unknown placeholder {%s} (allowed: {%s})",
					name, strings.Join(SubjectPlaceholders, "} {")))
			}
			flush(i)
			parts = append(parts, TemplatePart{Placeholder: name})
			i += j + 1
			lit = i + 1
		}
	}
	flush(len(t))
	return parts, problems
}

// templateProblems lists what is wrong with a subject template ("" is the default).
func templateProblems(t string) []string {
	_, problems := SplitSubjectTemplate(EffectiveSubjectTemplate(t))
	return problems
}

// templateProblems is templateProblems memoised per validation: most spaces share a template.
func (v *validator) templateProblems(t string) []string {
	if p, ok := v.templateCache[t]; ok {
		return p
	}
	if v.templateCache == nil {
		v.templateCache = map[string][]string{}
	}
	p := templateProblems(t)
	v.templateCache[t] = p
	return p
}

func (v *validator) exists(idx map[string]int, id string) bool {
	_, ok := idx[id]
	return ok
}

// refKind is the kind of object a reference names, with the index its ids resolve in.
type refKind struct {
	// name is the kind as problems name it: "space", "stack", "integration", "role".
	name string
	// ids is the validator's index of that kind (v.spaces, v.stacks, ...), filled by checkIDs.
	ids map[string]int
}

// checkRef reports at path a reference id to a missing object of kind; it returns whether the
// reference resolves.
func (v *validator) checkRef(path string, kind refKind, id string) bool {
	if id == "" {
		v.add(path, "", "required")
		return false
	}
	if !v.exists(kind.ids, id) {
		v.add(path, id, "%s %q does not exist", kind.name, id)
		v.errs[len(v.errs)-1].Missing = true
		return false
	}
	return true
}

func (v *validator) checkStacks() {
	for i, s := range v.c.Stacks {
		v.checkRef(joinIndex("stacks", i)+".space", refKind{name: "space", ids: v.spaces}, s.Space)
	}
}

// attachSlot identifies one read or write slot of a stack for a provider.
type attachSlot struct {
	stack, provider, scope string
}

func (v *validator) checkAttachments() {
	c := v.c
	n := len(c.Attachments)
	pairs := make(map[[2]string]int, n)
	slots := make(map[attachSlot]int, n)
	v.slots = make(map[attachSlot]slotUse, n)
	for i, a := range c.Attachments {
		base := joinIndex("attachments", i)
		_, okStack := v.stacks[a.Stack]
		_, okInt := v.integrations[a.Integration]
		if !okStack {
			v.checkRef(base+".stack", refKind{name: "stack", ids: v.stacks}, a.Stack)
		}
		if !okInt {
			v.checkRef(base+".integration", refKind{name: "integration", ids: v.integrations}, a.Integration)
		}
		if !a.Read && !a.Write {
			v.add(base, "", "attachment of %q to %q must set read: true, write: true or both", a.Integration, a.Stack)
		}
		if !okStack || !okInt {
			continue
		}
		pair := [2]string{a.Stack, a.Integration}
		if j, dup := pairs[pair]; dup {
			v.add(base+".integration", a.Integration, "integration %q is already attached to stack %q at attachments[%d]",
				a.Integration, a.Stack, j)
			continue
		}
		pairs[pair] = i

		st := c.Stacks[v.stacks[a.Stack]]
		in := c.Integrations[v.integrations[a.Integration]]
		if usable := v.usable(st.Space); usable != nil && !slices.Contains(usable, in.Space) {
			v.add(base+".integration", a.Integration,
				"integration %q lives in space %q, which stack %q in space %q cannot use (usable spaces: %s)",
				a.Integration, in.Space, a.Stack, st.Space, strings.Join(usable, ", "))
		}
		provider := in.Provider()
		if provider == "" {
			continue
		}
		for _, scope := range scopesOf(a) {
			slot := attachSlot{a.Stack, provider, scope}
			if j, taken := slots[slot]; taken {
				v.add(base+"."+scope, "true",
					"stack %q already has a %s attachment for %s (attachments[%d], integration %q); at most one per provider",
					a.Stack, scope, provider, j, c.Attachments[j].Integration)
				v.errs[len(v.errs)-1].Conflict = true
				continue
			}
			slots[slot] = i
			v.slots[slot] = slotUse{integration: a.Integration, source: SourceDirect}
		}
	}
}

func scopesOf(a Attachment) []string {
	var out []string
	if a.Read {
		out = append(out, "read")
	}
	if a.Write {
		out = append(out, "write")
	}
	return out
}

func (v *validator) checkRoles() {
	for i, r := range v.c.Roles {
		base := joinIndex("roles", i)
		if len(r.Actions) == 0 {
			v.add(base+".actions", "", "at least one action is required (%s)", strings.Join(Actions, ", "))
		}
		for j, a := range r.Actions {
			if !slices.Contains(Actions, a) {
				v.add(joinIndex(base+".actions", j), a, "unknown action %q (want one of %s)", a, strings.Join(Actions, ", "))
			}
		}
	}
}

func (v *validator) checkAPIKeys() {
	secrets := map[string]int{}
	for i, k := range v.c.APIKeys {
		base := joinIndex("api_keys", i)
		switch {
		case k.SecretSHA256 == "":
			v.add(base+".secret_sha256", "", "required (the lowercase hex SHA-256 of the secret)")
		case !sha256HexRE.MatchString(k.SecretSHA256):
			// The value is not repeated: it may be the secret itself, written in the digest's place.
			v.add(base+".secret_sha256", "",
				"not a SHA-256 hex digest (64 lowercase hex characters): give the digest of the secret, never the secret")
		default:
			if j, dup := secrets[k.SecretSHA256]; dup {
				v.add(base+".secret_sha256", k.SecretSHA256, "same secret as api_keys[%d]", j)
			} else {
				secrets[k.SecretSHA256] = i
			}
		}
		if len(k.Bindings) == 0 {
			v.add(base+".bindings", "", "at least one binding {role, space} is required")
		}
		for j, b := range k.Bindings {
			bp := joinIndex(base+".bindings", j)
			v.checkRef(bp+".role", refKind{name: "role", ids: v.roles}, b.Role)
			v.checkRef(bp+".space", refKind{name: "space", ids: v.spaces}, b.Space)
		}
	}
}
