package main

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"

	"github.com/brokerhq/broker/internal/config"
)

// dryRunCheck is what a dry run adds to reading each object: the broker's objects with the
// file's put in their place are checked with the configuration file's rules (ids, fields,
// references, the one read and one write attachment per provider, subject templates), and the
// problems that the broker's objects do not already have are the file's. It does not check what
// only the broker decides (the caller's rights, a version changed meanwhile).
type dryRunCheck struct {
	// problems are the file's, one line each, naming the object ("stack/vpc: space ...").
	problems []string
	// skipped says why nothing was checked, empty when it was.
	skipped string
}

// checkAgainstLive runs the dry run's check of f against the broker c reads.
func checkAgainstLive(ctx context.Context, c *adminClient, f applyFile) (dryRunCheck, error) {
	live, err := liveObjects(ctx, c)
	if errors.Is(err, errPartialTree) {
		return dryRunCheck{skipped: "BROKER_API_KEY does not see every space (a key bound on root does)"}, nil
	}
	if err != nil {
		return dryRunCheck{}, err
	}
	before := objectProblems(live)
	var out dryRunCheck
	for _, p := range objectProblems(withFile(live, f)) {
		if !slices.Contains(before, p) {
			out.problems = append(out.problems, p)
		}
	}
	return out, nil
}

// withFile is a copy of live with each object of f in place of the one of the same id, or added.
func withFile(live *config.Config, f applyFile) *config.Config {
	next := &config.Config{Source: live.Source,
		Spaces:       slices.Clone(live.Spaces),
		Stacks:       slices.Clone(live.Stacks),
		Integrations: slices.Clone(live.Integrations),
		Attachments:  slices.Clone(live.Attachments),
		Roles:        slices.Clone(f.Roles),
	}
	next.Spaces = putAll(next.Spaces, f.Spaces, func(s config.Space) string { return s.ID })
	next.Stacks = putAll(next.Stacks, f.Stacks, func(s config.Stack) string { return s.ID })
	next.Integrations = putAll(next.Integrations, f.Integrations, func(in config.Integration) string { return in.ID })
	next.Attachments = putAll(next.Attachments, f.Attachments, func(a config.Attachment) string { return a.Stack + "/" + a.Integration })
	return next
}

// putAll replaces each object of list that has the id of one of objs, and appends the others.
func putAll[T any](list, objs []T, id func(T) string) []T {
	for _, o := range objs {
		if i := slices.IndexFunc(list, func(x T) bool { return id(x) == id(o) }); i >= 0 {
			list[i] = o
		} else {
			list = append(list, o)
		}
	}
	return list
}

// objectPath matches a problem's path that starts at an object of a list: "stacks[3].space".
var objectPath = regexp.MustCompile(`^(spaces|stacks|integrations|attachments|roles)\[(\d+)\](.*)$`)

// objectProblems is every problem the configuration rules find in cfg's objects, one line each,
// with the object named by kind and id rather than by its place in a list, so that two
// configurations' problems compare.
func objectProblems(cfg *config.Config) []string {
	cfg.ApplyObjectDefaults()
	var errs config.Errors
	if err := cfg.ValidateObjects(); !errors.As(err, &errs) {
		if err != nil {
			return []string{err.Error()}
		}
		return nil
	}
	out := make([]string, 0, len(errs))
	for _, fe := range errs {
		out = append(out, objectName(cfg, fe.Path)+": "+fe.Msg)
	}
	return out
}

// objectName is path with its list and index replaced by the object's kind and id.
func objectName(cfg *config.Config, path string) string {
	m := objectPath.FindStringSubmatch(path)
	if m == nil {
		return path
	}
	i, _ := strconv.Atoi(m[2])
	var name string
	switch m[1] {
	case "spaces":
		name = kindName(kindSpace, cfg.Spaces, i, func(s config.Space) string { return s.ID })
	case "stacks":
		name = kindName(kindStack, cfg.Stacks, i, func(s config.Stack) string { return s.ID })
	case "integrations":
		name = kindName(kindIntegration, cfg.Integrations, i, func(in config.Integration) string { return in.ID })
	case "attachments":
		name = kindName(kindAttachment, cfg.Attachments, i, func(a config.Attachment) string { return a.Stack + "/" + a.Integration })
	case "roles":
		name = kindName(kindRole, cfg.Roles, i, func(r config.Role) string { return r.ID })
	}
	return name + m[3]
}

// kindName is "KIND/ID" of list[i], or "KIND[i]" when there is no such object.
func kindName[T any](k adminKind, list []T, i int, id func(T) string) string {
	if i < 0 || i >= len(list) {
		return fmt.Sprintf("%s[%d]", k.name, i)
	}
	return k.name + "/" + id(list[i])
}
