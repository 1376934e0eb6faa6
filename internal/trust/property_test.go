package trust

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/claims"
	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/runs"
)

// The property: for any configuration that validates, (1) two runs get the same `sub` only
// when they belong to the same stack and scope (and agree on every other value the template
// names), (2) no `sub` matches a trust subject that broker trust prints for another stack or
// scope, so (3) read and write subjects never overlap, and every run's `sub` matches a subject
// printed for its own stack and scope.

// minted is one rendered `sub` and what it was rendered for.
type minted struct {
	sub      string
	space    string
	stack    string
	scope    runs.Scope
	runType  runs.Type
	phase    runs.Phase
	runID    string
	template string
}

// printed is what broker trust prints for one stack and scope.
type printed struct {
	stack    string
	scope    runs.Scope
	subjects []string
}

// globMatch is AWS StringLike matching: "*" matches any text, "?" any one character.
func globMatch(pattern, s string) bool {
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i]) && pattern[p] != '*':
			p++
			i++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// problem is one way subs and trust subjects break the property: the subjects printed for
// stack at scope match a sub of another stack or scope (shared), or miss one of their own.
type problem struct {
	msg    string
	stack  string
	scope  runs.Scope
	shared bool
}

// checkProperty returns every way subs and policies break the property.
func checkProperty(subs []minted, policies []printed) []problem {
	var out []problem
	bySub := map[string]minted{}
	for _, m := range subs {
		o, ok := bySub[m.sub]
		if !ok {
			bySub[m.sub] = m
			continue
		}
		msg := ""
		switch {
		case o.stack != m.stack || o.space != m.space:
			msg = fmt.Sprintf("sub %q is both stack %s/%s's and stack %s/%s's", m.sub, o.space, o.stack, m.space, m.stack)
		case o.scope != m.scope:
			msg = fmt.Sprintf("sub %q of stack %s is both read and write", m.sub, m.stack)
		case strings.Contains(m.template, "{runType}") && o.runType != m.runType,
			strings.Contains(m.template, "{runPhase}") && o.phase != m.phase,
			strings.Contains(m.template, "{runId}") && o.runID != m.runID:
			msg = fmt.Sprintf("sub %q is two runs' of stack %s: %+v and %+v", m.sub, m.stack, o, m)
		}
		if msg != "" {
			out = append(out, problem{msg, o.stack, o.scope, true})
		}
	}
	for _, p := range policies {
		for _, m := range subs {
			matched := slices.ContainsFunc(p.subjects, func(pat string) bool { return globMatch(pat, m.sub) })
			own := m.stack == p.stack && m.scope == p.scope
			switch {
			case matched && m.stack == p.stack && !own:
				out = append(out, problem{fmt.Sprintf("%s subjects %q of stack %s match its %s sub %q", p.scope, p.subjects, p.stack, m.scope, m.sub), p.stack, p.scope, true})
			case matched && !own:
				out = append(out, problem{fmt.Sprintf("subjects %q of stack %s (%s) match sub %q of stack %s (%s)", p.subjects, p.stack, p.scope, m.sub, m.stack, m.scope), p.stack, p.scope, true})
			case !matched && own:
				out = append(out, problem{fmt.Sprintf("subjects %q of stack %s (%s) miss its own sub %q", p.subjects, p.stack, p.scope, m.sub), p.stack, p.scope, false})
			}
		}
	}
	return out
}

func messages(ps []problem) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.msg)
	}
	return out
}

// mintAll renders the subs of every stack of cfg in every run type and phase that mints
// tokens, for a few run ids each.
func mintAll(t *testing.T, cfg *config.Config, rng *rand.Rand) []minted {
	t.Helper()
	spaces, err := claims.NewSpaces(cfg)
	if err != nil {
		t.Fatalf("NewSpaces of a valid configuration: %v", err)
	}
	templates := map[string]string{}
	for _, s := range cfg.Spaces {
		templates[s.ID] = config.EffectiveSubjectTemplate(s.SubjectTemplate)
	}
	var out []minted
	for _, st := range cfg.Stacks {
		ids := []string{randomRunID(rng), randomRunID(rng)}
		for _, ty := range runs.Types() {
			phases, _ := runs.Phases(ty)
			for _, ph := range phases {
				if ph == runs.Finished {
					continue
				}
				for _, id := range ids {
					run := runs.Run{ID: id, RunType: ty, Phase: ph, Scope: runs.ScopeOf(ty, ph)}
					sub, ok := spaces.Subject(claims.Subject{SpaceID: st.Space, CallerType: claims.CallerTypeStack, CallerID: st.ID, Run: run})
					if !ok {
						t.Fatalf("no space %s", st.Space)
					}
					out = append(out, minted{sub, st.Space, st.ID, run.Scope, ty, ph, id, templates[st.Space]})
				}
			}
		}
	}
	return out
}

// printAll returns what broker trust prints for every stack and scope of cfg.
func printAll(t *testing.T, cfg *config.Config) []printed {
	t.Helper()
	var out []printed
	for _, st := range cfg.Stacks {
		for _, scope := range []runs.Scope{runs.Read, runs.Write} {
			subjects, err := Subjects(cfg, st.ID, scope)
			if err != nil {
				t.Fatalf("Subjects(%s, %s) of a valid configuration: %v", st.ID, scope, err)
			}
			out = append(out, printed{st.ID, scope, subjects})
		}
	}
	return out
}

// renderPolicies is printAll without broker trust's own check: the subjects rendered for
// every stack and scope of cfg, the run id as "*".
func renderPolicies(t *testing.T, cfg *config.Config) []printed {
	t.Helper()
	spaces, err := claims.NewSpaces(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var out []printed
	for _, st := range cfg.Stacks {
		for _, scope := range []runs.Scope{runs.Read, runs.Write} {
			p := printed{stack: st.ID, scope: scope}
			for _, ty := range runs.Types() {
				phases, _ := runs.Phases(ty)
				for _, ph := range phases {
					if ph == runs.Finished || runs.ScopeOf(ty, ph) != scope {
						continue
					}
					sub, _ := spaces.Subject(claims.Subject{SpaceID: st.Space, CallerType: claims.CallerTypeStack, CallerID: st.ID,
						Run: runs.Run{ID: "*", RunType: ty, Phase: ph, Scope: scope}})
					p.subjects = append(p.subjects, sub)
				}
			}
			out = append(out, p)
		}
	}
	return out
}

// TestSubjectsProperty checks the property over random valid configurations, with a fixed
// seed so that a failure repeats. Each configuration is then attacked (attackerStacks); a
// refused one is attacked too, to show that refusals stop real collisions, which broker
// trust's own check must catch as well.
func TestSubjectsProperty(t *testing.T) {
	rng := rand.New(rand.NewPCG(20240607, 7))
	valid, mixed, refused, broken := 0, 0, 0, 0
	for i := 0; i < 300; i++ {
		cfg := randomConfig(rng)
		for _, s := range cfg.Spaces {
			if _, err := claims.ParseTemplate(s.SubjectTemplate); err != nil {
				t.Fatalf("the generator drew a template outside the grammar: %v", err)
			}
		}
		if err := cfg.Validate(); err != nil {
			var errs config.Errors
			if !errors.As(err, &errs) {
				t.Fatalf("Validate = %v", err)
			}
			for _, e := range errs {
				if !strings.Contains(e.Msg, "also gives, or that its run id wildcard matches") {
					t.Fatalf("refused for another reason than overlapping templates: %v", e)
				}
			}
			refused++
			attackerStacks(t, cfg, observed{subs: mintAll(t, cfg, rng), policies: renderPolicies(t, cfg)}, rng)
			problems := checkProperty(mintAll(t, cfg, rng), renderPolicies(t, cfg))
			if len(problems) > 0 {
				broken++
			}
			for _, p := range problems {
				if !p.shared {
					t.Fatal(p.msg)
				}
				if _, err := Subjects(cfg, p.stack, p.scope); !errors.Is(err, ErrSharedSubject) {
					t.Fatalf("broker trust prints subjects of stack %s (%s) although %s (err %v)", p.stack, p.scope, p.msg, err)
				}
			}
			continue
		}
		valid++
		if len(templatesOf(cfg)) > 1 {
			mixed++
		}
		attackerStacks(t, cfg, observed{subs: mintAll(t, cfg, rng), policies: printAll(t, cfg)}, rng)
		if err := cfg.Validate(); err != nil {
			t.Fatalf("adding stacks made a valid configuration invalid: %v", err)
		}
		if problems := checkProperty(mintAll(t, cfg, rng), printAll(t, cfg)); len(problems) > 0 {
			var spaces []string
			for _, s := range cfg.Spaces {
				spaces = append(spaces, fmt.Sprintf("%s(parent %q, template %q)", s.ID, s.Parent, s.SubjectTemplate))
			}
			t.Fatalf("configuration %d (spaces %s, stacks %+v):\n%s", i, strings.Join(spaces, ", "), cfg.Stacks,
				strings.Join(messages(problems)[:min(len(problems), 10)], "\n"))
		}
	}
	t.Logf("%d valid configurations (%d with several templates); %d refused, of which attacks broke %d", valid, mixed, refused, broken)
	if valid < 200 || mixed < 50 || refused < 20 || broken < 3 {
		t.Fatalf("too few cases: %d valid, %d with several templates, %d refused, %d broken", valid, mixed, refused, broken)
	}
}

// naiveMint renders what a template, bypassing validation, gives each (space, stack) pair.
func naiveMint(template string, stacks [][2]string, runID string) ([]minted, []printed) {
	// render is m's template with m's values and the run id id.
	render := func(m minted, id string) string {
		return strings.NewReplacer("{spaceId}", m.space, "{spacePath}", "root/"+m.space, "{callerType}", "stack", "{callerId}", m.stack,
			"{runId}", id, "{runType}", string(m.runType), "{runPhase}", string(m.phase), "{scope}", string(m.scope)).Replace(m.template)
	}
	var subs []minted
	var pols []printed
	for _, ss := range stacks {
		for _, scope := range []runs.Scope{runs.Read, runs.Write} {
			m := minted{space: ss[0], stack: ss[1], scope: scope, runType: runs.Tracked, phase: runs.Planning, runID: runID, template: template}
			if scope == runs.Write {
				m.phase = runs.Applying
			}
			m.sub = render(m, runID)
			subs = append(subs, m)
			pols = append(pols, printed{ss[1], scope, []string{render(m, "*")}})
		}
	}
	return subs, pols
}

// TestCheckPropertyCatchesTheIssue: the property's checker finds each hole the template rules
// close, so TestSubjectsProperty passing means something.
func TestCheckPropertyCatchesTheIssue(t *testing.T) {
	cases := []struct {
		template string
		stacks   [][2]string // space, stack
		want     string
	}{
		{"repo:{spacePath}:{callerId}", [][2]string{{"a", "net"}}, "is both read and write"},
		{"{spaceId}-{callerId}-{scope}", [][2]string{{"a", "b-c"}, {"a-b", "c"}}, "is both stack a/b-c's and stack a-b/c's"},
		{"space:{spaceId}:stack:{callerId}{runId}", [][2]string{{"a", "net"}, {"a", "net-evil"}}, "match sub \"space:a:stack:net-evil"},
	}
	for _, tc := range cases {
		problems := messages(checkProperty(naiveMint(tc.template, tc.stacks, randomRunID(rand.New(rand.NewPCG(1, 1))))))
		if !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, tc.want) }) {
			t.Errorf("template %q: problems %q lack %q", tc.template, problems, tc.want)
		}
	}
}

// FuzzTemplateSubjects: whatever two templates (root's and a child space's) and ids, a
// configuration that validates keeps the property, also under attack.
func FuzzTemplateSubjects(f *testing.F) {
	for _, seed := range [][5]string{
		{"", "space:{spaceId}:stack:{callerId}:scope:{scope}", "dev", "vpc-prod", "app-dev"},
		{"space:prod:stack:vpc-{callerId}:run_type:{runType}:scope:{scope}", "", "prod", "prod", "vpc-prod"},
		{"a:{callerId}:{scope}", "{callerId}:b:{scope}", "x", "b", "a"},
		{"{spaceId}-{callerId}-{scope}", "{spaceId}-{callerId}-{scope}", "root-a", "a-c", "c"},
		{"space:{spaceId}:stack:{callerId}{runId}", "", "a", "net", "net-evil"},
		{"repo:{spacePath}:{callerId}", "", "a", "net", "evil"},
		{"x:{callerId}:{runId}:{scope}", "x:net:{runId}:{callerId}:{scope}", "b", "net", "evil"},
		{"-net{scope}:{callerId}a", "-net{callerId}:{scope}a", "0", "read", "write"},
		{"{spacePath}/{callerId}:{scope}", "{callerId}:{scope}", "a", "b", "c"},
		{"s:*{callerId}:{scope}", "s:*{callerId}:{scope}", "a", "b", "ab"},
	} {
		f.Add(seed[0], seed[1], seed[2], seed[3], seed[4])
	}
	f.Fuzz(func(t *testing.T, rootTemplate, childTemplate, child, rootStack, childStack string) {
		if child == config.RootSpace || rootStack == childStack {
			return
		}
		cfg := &config.Config{
			Issuer: "https://broker.example.com",
			Spaces: []config.Space{{ID: config.RootSpace, SubjectTemplate: rootTemplate}, {ID: child, Parent: config.RootSpace, SubjectTemplate: childTemplate}},
			Stacks: []config.Stack{{ID: rootStack, Space: config.RootSpace}, {ID: childStack, Space: child}},
		}
		cfg.ApplyDefaults()
		if cfg.Validate() != nil {
			return
		}
		rng := rand.New(rand.NewPCG(1, 2))
		attackerStacks(t, cfg, observed{subs: mintAll(t, cfg, rng), policies: printAll(t, cfg)}, rng)
		if problems := checkProperty(mintAll(t, cfg, rng), printAll(t, cfg)); len(problems) > 0 {
			t.Fatalf("templates %q and %q: %s", rootTemplate, childTemplate, strings.Join(messages(problems), "\n"))
		}
	})
}
