package main

import (
	"context"
	"fmt"
	"net/url"

	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/config"
)

// applyFile is what broker apply reads: the object lists of the configuration file's shape and
// nothing else, so any other key (issuer, api_keys, ...) is an error.
type applyFile struct {
	Spaces       []config.Space       `yaml:"spaces"`
	Stacks       []config.Stack       `yaml:"stacks"`
	Integrations []config.Integration `yaml:"integrations"`
	Attachments  []config.Attachment  `yaml:"attachments"`
	Roles        []config.Role        `yaml:"roles"`
}

// applyObject is one object of the file and how to find what the broker holds for it.
type applyObject struct {
	// ref names the object in apply's output: "space/prod", "attachment/vpc/aws-read".
	ref string
	// path is where the object is PUT.
	path string
	// desired is the object as the file gives it.
	desired any
	// current returns the broker's object, or nil when there is none.
	current func(ctx context.Context, c *adminClient) (*servedObject, error)
	// narrowed, when narrowingFirst found one, is the broker's object with only what the file
	// drops taken away (an integration's read or write, a stack's labels, a role's actions), put before
	// anything else.
	narrowed *narrowStep
	// stage orders the object against the objects put again after a conflict: stageMain
	// before them, stageAfterRetries after them (a space the file makes inherit), stageLast
	// after everything (a role the file widens).
	stage applyStage
}

// applyStage is when apply puts an object (see applyObject.stage).
type applyStage int

// The stages of apply.
const (
	stageMain applyStage = iota
	stageAfterRetries
	stageLast
)

// servedObject is an object as the broker holds it: its canonical form and its meta.
type servedObject struct {
	canon []byte
	meta
}

// planApply lists the file's objects in dependency order (catalog.Kinds: an object refers only
// to kinds before it; a space comes after its parent), after checking that every object has an
// id and that no id repeats within its kind.
func planApply(f applyFile, source string) ([]applyObject, error) {
	if err := checkIDs(f, source); err != nil {
		return nil, err
	}
	var out []applyObject
	for _, k := range catalog.Kinds {
		switch k {
		case catalog.KindRole:
			for _, r := range f.Roles {
				out = append(out, single[config.Role](kindRole, r.ID, r))
			}
		case catalog.KindSpace:
			for _, s := range parentsFirst(f.Spaces) {
				out = append(out, single[config.Space](kindSpace, s.ID, s))
			}
		case catalog.KindStack:
			for _, s := range f.Stacks {
				out = append(out, single[config.Stack](kindStack, s.ID, s))
			}
		case catalog.KindIntegration:
			for _, in := range f.Integrations {
				out = append(out, single[config.Integration](kindIntegration, in.ID, in))
			}
		case catalog.KindAttachment:
			for _, a := range f.Attachments {
				out = append(out, attachment(a))
			}
		}
	}
	return out, nil
}

// single is an object that the API serves on its own at the kind's path and id.
func single[T any](k adminKind, id string, obj T) applyObject {
	path := k.path + "/" + url.PathEscape(id)
	return applyObject{ref: k.name + "/" + id, path: path, desired: obj,
		current: func(ctx context.Context, c *adminClient) (*servedObject, error) {
			raw, err := c.getField(ctx, path, k.one)
			if isNotFound(err) {
				return nil, nil
			}
			if err != nil {
				return nil, err
			}
			obj, m, err := decodeServed[T](raw)
			if err != nil {
				return nil, err
			}
			canon, err := canonical(obj)
			return &servedObject{canon: canon, meta: m}, err
		}}
}

// attachment is a direct attachment, found in its stack's listing; an attachment an autoattach
// rule makes is not one.
func attachment(a config.Attachment) applyObject {
	stackPath := kindStack.path + "/" + url.PathEscape(a.Stack) + "/attachments"
	return applyObject{ref: kindAttachment.name + "/" + a.Stack + "/" + a.Integration, desired: a,
		path: stackPath + "/" + url.PathEscape(a.Integration),
		current: func(ctx context.Context, c *adminClient) (*servedObject, error) {
			list, err := c.getField(ctx, stackPath, kindAttachment.list)
			if isNotFound(err) { // no stack yet: nothing attached to it
				return nil, nil
			}
			if err != nil {
				return nil, err
			}
			all, err := items(list)
			if err != nil {
				return nil, err
			}
			for _, raw := range all {
				at, m, err := decodeServed[servedAttachment](raw)
				if err != nil {
					return nil, err
				}
				if at.Integration != a.Integration || at.Source != config.SourceDirect {
					continue
				}
				canon, err := canonical(config.Attachment{Stack: at.Stack, Integration: at.Integration, Read: at.Read, Write: at.Write})
				return &servedObject{canon: canon, meta: m}, err
			}
			return nil, nil
		}}
}

// canonical is the object's API form with the defaults the broker gives it, so that an object
// of the file and the same object served by the broker compare equal byte for byte.
func canonical(obj any) ([]byte, error) {
	if in, ok := obj.(config.Integration); ok {
		c := config.Config{Integrations: []config.Integration{in}}
		c.ApplyObjectDefaults()
		obj = c.Integrations[0]
	}
	return config.EncodeJSON(obj)
}

// parentsFirst orders spaces so that each comes after its parent when the parent is among
// them; spaces in a cycle keep their order at the end, for the broker to refuse.
func parentsFirst(spaces []config.Space) []config.Space {
	index := make(map[string]int, len(spaces))
	for i, s := range spaces {
		index[s.ID] = i
	}
	const (
		unseen = iota
		visiting
		done
	)
	state := make([]int, len(spaces))
	var out, cyclic []config.Space
	var visit func(i int) bool
	visit = func(i int) bool {
		switch state[i] {
		case done:
			return true
		case visiting:
			return false
		}
		state[i] = visiting
		if p, ok := index[spaces[i].Parent]; ok && p != i && !visit(p) {
			return false
		}
		state[i] = done
		out = append(out, spaces[i])
		return true
	}
	for i := range spaces {
		if state[i] == unseen && !visit(i) {
			for j := range spaces {
				if state[j] == visiting {
					state[j] = done
					cyclic = append(cyclic, spaces[j])
				}
			}
		}
	}
	return append(out, cyclic...)
}

// checkIDs refuses an object without its id, an id that breaks the id rule (see badIDs) and an
// id given twice within a kind: apply would otherwise change an object twice in one run.
func checkIDs(f applyFile, source string) error {
	errs, bad := badIDs(f, source)
	check := func(list, what string, ids []string) {
		first := map[string]int{}
		for i, id := range ids {
			path := fmt.Sprintf("%s[%d]", list, i)
			switch j, dup := first[id]; {
			case bad[path]:
				// Refused by badIDs, and never quoted as given twice.
			case id == "":
				errs = append(errs, &config.FieldError{Source: source, Path: path, Msg: what + " required"})
			case dup:
				errs = append(errs, &config.FieldError{Source: source, Path: path, Value: id,
					Msg: fmt.Sprintf("%q is given twice (first at %s[%d])", id, list, j)})
			default:
				first[id] = i
			}
		}
	}
	check("roles", "id is", idsOf(f.Roles, func(r config.Role) string { return r.ID }))
	check("spaces", "id is", idsOf(f.Spaces, func(s config.Space) string { return s.ID }))
	check("stacks", "id is", idsOf(f.Stacks, func(s config.Stack) string { return s.ID }))
	check("integrations", "id is", idsOf(f.Integrations, func(in config.Integration) string { return in.ID }))
	check("attachments", "stack and integration are", idsOf(f.Attachments, func(a config.Attachment) string {
		if a.Stack == "" || a.Integration == "" {
			return ""
		}
		return a.Stack + "/" + a.Integration
	}))
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// badIDs refuses, before any request, every id of f that breaks the id rule (config.IDPattern),
// the ids it refers to included (a space's parent, a stack's or an integration's space, an
// attachment's stack and integration), and returns the paths of the objects it
// refused ("stacks[2]"). The id is not repeated: it may be a secret pasted in the wrong place,
// which the broker's request log and apply's output would keep, as get and delete refuse it.
func badIDs(f applyFile, source string) (config.Errors, map[string]bool) {
	var errs config.Errors
	bad := map[string]bool{}
	refuse := func(list string, i int, field, id string) {
		if id == "" || config.IDPattern.MatchString(id) {
			return
		}
		item := fmt.Sprintf("%s[%d]", list, i)
		bad[item] = true
		errs = append(errs, &config.FieldError{Source: source, Path: item + "." + field,
			Msg: notAnID(id)})
	}
	for i, r := range f.Roles {
		refuse("roles", i, "id", r.ID)
	}
	for i, sp := range f.Spaces {
		refuse("spaces", i, "id", sp.ID)
		refuse("spaces", i, "parent", sp.Parent)
	}
	for i, st := range f.Stacks {
		refuse("stacks", i, "id", st.ID)
		refuse("stacks", i, "space", st.Space)
	}
	for i, in := range f.Integrations {
		refuse("integrations", i, "id", in.ID)
		refuse("integrations", i, "space", in.Space)
	}
	for i, a := range f.Attachments {
		refuse("attachments", i, "stack", a.Stack)
		refuse("attachments", i, "integration", a.Integration)
	}
	return errs, bad
}

func idsOf[T any](list []T, id func(T) string) []string {
	out := make([]string, len(list))
	for i, x := range list {
		out[i] = id(x)
	}
	return out
}
