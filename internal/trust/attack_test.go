package trust

import (
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/claims"
	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/runs"
)

// observed is what an attacker sees of a configuration's existing stacks: the subs minted for
// them and the trust subjects printed (or rendered) for each stack and scope.
type observed struct {
	subs     []minted
	policies []printed
}

// attackerStacks adds to cfg stacks, and spaces, chosen to collide, as space admins could:
// for every space template and every sub (and trust subject, its "*" filled with a run id
// drawn from rng) in seen, it reads the template as a regular expression over the sub, and
// when that matches, adds a stack with the {callerId} read in the space that {spaceId} or
// {spacePath} name, creating the space (with that template) when it is missing. New spaces
// repeat an existing template, so a valid configuration stays valid and must survive them.
func attackerStacks(t *testing.T, cfg *config.Config, seen observed, rng *rand.Rand) (added int) {
	t.Helper()
	var targets []string
	for _, m := range seen.subs {
		targets = append(targets, m.sub)
	}
	for _, p := range seen.policies {
		for _, pat := range p.subjects {
			targets = append(targets, strings.ReplaceAll(pat, "*", randomRunID(rng)))
		}
	}
	for _, sp := range slices.Clone(cfg.Spaces) {
		tmpl := config.EffectiveSubjectTemplate(sp.SubjectTemplate)
		re, groups := templateRegexp(t, tmpl)
		for _, target := range targets {
			m := re.FindStringSubmatch(target)
			if m == nil {
				continue
			}
			read := map[string]string{}
			consistent := true
			for i, name := range groups {
				if v, ok := read[name]; ok && v != m[i+1] {
					consistent = false
				}
				read[name] = m[i+1]
			}
			if _, ok := read["spaceId"]; !ok && read["spacePath"] == "" {
				read["spacePath"] = strings.Join(cfg.SpacePath(sp.ID), "/")
			}
			if consistent && addAttacker(cfg, tmpl, read) {
				added++
			}
		}
	}
	return added
}

// addAttacker adds stack read["callerId"] in the space read names, creating the space's path
// when missing; it reports whether it added the stack.
func addAttacker(cfg *config.Config, tmpl string, read map[string]string) bool {
	stack := read["callerId"]
	if _, taken := cfg.Stack(stack); taken {
		return false
	}
	path := strings.Split(read["spacePath"], "/")
	if read["spacePath"] == "" {
		path = []string{config.RootSpace, read["spaceId"]}
		if existing := cfg.SpacePath(read["spaceId"]); existing != nil {
			path = existing
		}
	}
	if id, ok := read["spaceId"]; ok && path[len(path)-1] != id {
		return false
	}
	for i, id := range path {
		if i == 0 {
			if id != config.RootSpace {
				return false
			}
			continue
		}
		if existing := cfg.SpacePath(id); existing != nil {
			if !slices.Equal(existing, path[:i+1]) {
				return false
			}
			continue
		}
		for _, s := range cfg.Spaces {
			if s.ID == id {
				return false // in the file but not in the tree
			}
		}
		cfg.Spaces = append(cfg.Spaces, config.Space{ID: id, Parent: path[i-1], SubjectTemplate: tmpl})
	}
	last := path[len(path)-1]
	for _, s := range cfg.Spaces {
		if s.ID == last && config.EffectiveSubjectTemplate(s.SubjectTemplate) != tmpl {
			return false
		}
	}
	cfg.Stacks = append(cfg.Stacks, config.Stack{ID: stack, Space: last})
	return true
}

// templateRegexp reads a template as a regular expression, with a group for each {callerId},
// {spaceId} and {spacePath}, whose placeholder names it returns in group order; run values
// come from package runs.
func templateRegexp(t *testing.T, tmpl string) (*regexp.Regexp, []string) {
	t.Helper()
	parts, problems := config.SplitSubjectTemplate(tmpl)
	if len(problems) > 0 {
		t.Fatalf("template %q: %v", tmpl, problems)
	}
	alt := func(vs []string) string { return "(?:" + strings.Join(vs, "|") + ")" }
	var types, phases []string
	for _, ty := range runs.Types() {
		types = append(types, string(ty))
	}
	for _, ph := range runs.AllPhases() {
		phases = append(phases, string(ph))
	}
	const id = "[a-z0-9][a-z0-9-]{0,62}"
	values := map[string]string{
		"callerId": "(" + id + ")", "spaceId": "(" + id + ")", "spacePath": "(root(?:/" + id + ")*)",
		"callerType": claims.CallerTypeStack, "runId": "[" + ulidChars + "]{26}", "runType": alt(types), "runPhase": alt(phases),
		"scope": alt([]string{string(runs.Read), string(runs.Write)}),
	}
	var b strings.Builder
	var groups []string
	b.WriteString("^")
	for _, p := range parts {
		switch p.Placeholder {
		case "":
			b.WriteString(regexp.QuoteMeta(p.Literal))
		case "callerId", "spaceId", "spacePath":
			groups = append(groups, p.Placeholder)
			b.WriteString(values[p.Placeholder])
		default:
			b.WriteString(values[p.Placeholder])
		}
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String()), groups
}
