package config

import (
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestEveryPlaceholderHasAnAlphabet keeps SubjectPlaceholders and placeholderChars equal.
func TestEveryPlaceholderHasAnAlphabet(t *testing.T) {
	for _, name := range SubjectPlaceholders {
		if _, ok := placeholderChars[name]; !ok {
			t.Errorf("{%s} has no alphabet", name)
		}
	}
	for name := range placeholderChars {
		if !slices.Contains(SubjectPlaceholders, name) {
			t.Errorf("alphabet for unknown placeholder {%s}", name)
		}
	}
}

// TestSeparatorRule: every pair of placeholders needs ':' between them, or '/' unless one of
// them is {spacePath}, whose values hold '/'.
func TestSeparatorRule(t *testing.T) {
	for _, a := range SubjectPlaceholders {
		for _, b := range SubjectPlaceholders {
			for _, sep := range []string{"", "-", "_", ".", "x", "/", ":", "-:-", "a/b"} {
				tmpl := "{callerId}:{scope}:{" + a + "}" + sep + "{" + b + "}"
				_, problems := SplitSubjectTemplate(tmpl)
				want := strings.Contains(sep, ":") || (strings.Contains(sep, "/") && a != "spacePath" && b != "spacePath")
				if got := len(problems) == 0; got != want {
					t.Errorf("%q: accepted = %v, want %v (%v)", tmpl, got, want, problems)
				}
			}
		}
	}
}

func TestDefaultTemplatesFollowTheRules(t *testing.T) {
	for _, tmpl := range []string{"", DefaultSubjectTemplate} {
		if p := templateProblems(tmpl); len(p) > 0 {
			t.Errorf("template %q: %v", tmpl, p)
		}
	}
}

func parts(t *testing.T, tmpl string) []TemplatePart {
	t.Helper()
	p, problems := SplitSubjectTemplate(EffectiveSubjectTemplate(tmpl))
	if len(problems) > 0 {
		t.Fatalf("template %q: %v", tmpl, problems)
	}
	return p
}

// templateRegexp is an independent model of what a template renders: each placeholder as a
// regular expression of its values, and {runId} as ".*" when pattern is set.
func templateRegexp(ps []TemplatePart, o langOptions) *regexp.Regexp {
	values := map[string]string{
		"spaceId": "[a-z0-9][a-z0-9-]*", "callerId": "[a-z0-9][a-z0-9-]*", "spacePath": "[a-z0-9][a-z0-9/-]*",
		"callerType": "[a-z]+", "scope": "[a-z]+", "runId": "[0-9A-Z]+", "runType": "[A-Z][A-Z_]*", "runPhase": "[A-Z][A-Z_]*",
	}
	var b strings.Builder
	b.WriteString("^")
	for _, p := range ps {
		switch {
		case p.Placeholder == "":
			b.WriteString(regexp.QuoteMeta(p.Literal))
		case o.pattern && p.Placeholder == "runId":
			b.WriteString("(?s:.*)")
		default:
			b.WriteString(values[p.Placeholder])
		}
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String())
}

func TestTemplatesOverlap(t *testing.T) {
	cases := []struct {
		a, b    string
		overlap bool
	}{
		{"", "space:{spaceId}:stack:{callerId}:scope:{scope}", false}, // the contract's example
		{"", "space:{spaceId}:path:{spacePath}:stack:{callerId}:scope:{scope}", false},
		{"", "space:{spaceId}:stack:{callerId}:run:{runId}:scope:{scope}", false},
		{"a:{callerId}:{scope}", "b:{callerId}:{scope}", false},
		{"{callerId}:{scope}", "{callerId}:{scope}:x", false}, // a different number of ':'
		{"{callerId}/{scope}", "{callerId}:{scope}", false},
		// stack b in one space and stack a in the other both give a:b:write
		{"a:{callerId}:{scope}", "{callerId}:b:{scope}", true},
		// stack prod of space dev takes the sub of stack vpc-prod of space prod
		{"", "space:prod:stack:vpc-{callerId}:run_type:{runType}:scope:{scope}", true},
		// x:net:*:write matches x:net:RUN:evil:write, a sub of stack evil
		{"x:{callerId}:{runId}:{scope}", "x:net:{runId}:{callerId}:{scope}", true},
		// a wildcard at the end swallows whatever the other template puts there
		{"s:{callerId}:{scope}:{runId}", "s:{callerId}:{scope}:{runType}:{callerId}", true},
		// a false alarm the alphabets cannot rule out: space root's id is its path
		{"{spaceId}:{callerId}:{scope}", "{spacePath}:{callerId}:{scope}", true},
	}
	for _, tc := range cases {
		a, b := parts(t, tc.a), parts(t, tc.b)
		for _, dir := range [][2][]TemplatePart{{a, b}, {b, a}} {
			example, got := templatesOverlap(dir[0], dir[1])
			if got != tc.overlap {
				t.Errorf("templatesOverlap(%q, %q) = %v (%q), want %v", tc.a, tc.b, got, example, tc.overlap)
				continue
			}
			if !got {
				continue
			}
			// The example is a sub one renders and the other renders or matches.
			x, y := dir[0], dir[1]
			if !(templateRegexp(x, langOptions{pattern: true}).MatchString(example) && templateRegexp(y, langOptions{}).MatchString(example)) &&
				!(templateRegexp(x, langOptions{}).MatchString(example) && templateRegexp(y, langOptions{pattern: true}).MatchString(example)) {
				t.Errorf("templatesOverlap(%q, %q): example %q is not common to both", tc.a, tc.b, example)
			}
		}
	}
}

// TestTemplatesOverlapFindsSampledCollisions: whenever random values make two random templates
// meet (a sub of one equal to, or matched by the trust pattern of, a sub of the other),
// templatesOverlap says so. The templates are built from a few characters so that they meet
// often.
func TestTemplatesOverlapFindsSampledCollisions(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	names := []string{"callerId", "scope", "spaceId", "runId", "runType"}
	values := map[string][]string{
		"callerId": {"a", "b", "a-b", "read"}, "spaceId": {"a", "b-a"}, "scope": {"read", "write"},
		"runId": {"A", "0B"}, "runType": {"A"},
	}
	lits := []string{"", "", "a", ":", ":", "a:", "-", "/"}
	gen := func() []TemplatePart {
		var ps []TemplatePart
		n := 2 + rng.IntN(3)
		for i := 0; i < n; i++ {
			if l := lits[rng.IntN(len(lits))]; l != "" {
				ps = append(ps, TemplatePart{Literal: l})
			}
			name := names[i]
			if i >= 2 {
				name = names[rng.IntN(len(names))]
			}
			ps = append(ps, TemplatePart{Placeholder: name})
		}
		return ps
	}
	// mutate changes one part of a copy of ps, so that pairs are often alike.
	mutate := func(ps []TemplatePart) []TemplatePart {
		out := slices.Clone(ps)
		i := rng.IntN(len(out))
		if out[i].Placeholder == "" {
			out[i].Literal = lits[2+rng.IntN(len(lits)-2)]
		} else {
			out[i].Placeholder = names[rng.IntN(len(names))]
		}
		return out
	}
	render := func(ps []TemplatePart) string {
		var b strings.Builder
		for _, p := range ps {
			if p.Placeholder == "" {
				b.WriteString(p.Literal)
			} else {
				vs := values[p.Placeholder]
				b.WriteString(vs[rng.IntN(len(vs))])
			}
		}
		return b.String()
	}
	found := 0
	for i := 0; i < 1500; i++ {
		a, b := gen(), gen()
		if i%2 == 0 {
			b = mutate(a)
		}
		pa, pb := templateRegexp(a, langOptions{pattern: true}), templateRegexp(b, langOptions{pattern: true})
		for j := 0; j < 20; j++ {
			sa, sb := render(a), render(b)
			if sa == sb || pa.MatchString(sb) || pb.MatchString(sa) {
				found++
				if _, ok := templatesOverlap(a, b); !ok {
					t.Fatalf("%v and %v meet at %q / %q, but templatesOverlap says they do not", a, b, sa, sb)
				}
				break
			}
		}
	}
	if found < 300 {
		t.Fatalf("only %d colliding pairs sampled; the test proves little", found)
	}
}

func TestValueExcept(t *testing.T) {
	n := newNFA(8)
	n.valueExcept(placeholderChars["callerId"], "net")
	for s, want := range map[string]bool{
		"net": false, "": false, "n": true, "ne": true, "nett": true, "net-evil": true, "neu": true, "a": true, "-et": false, "Net": false,
	} {
		lit := newNFA(8)
		lit.literal(s)
		if _, got := common(n, lit); got != want {
			t.Errorf("value other than net: %q accepted = %v, want %v", s, got, want)
		}
	}
}

// TestTemplatesOverlapShortcutsAgree: templatesOverlap, which settles pairs by their literal ends
// and remembers its answers, answers every pair as the automata do, asked once or twice.
func TestTemplatesOverlapShortcutsAgree(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 9))
	names := []string{"callerId", "scope", "spaceId", "runId", "runType", "spacePath"}
	lits := []string{"", "a", ":", "a:", ":a", "x:", ":z1z", ":z2z", "space:", "a*", "*:", "?:"}
	gen := func() []TemplatePart {
		var ps []TemplatePart
		for i := range 2 + rng.IntN(3) {
			if l := lits[rng.IntN(len(lits))]; l != "" {
				ps = append(ps, TemplatePart{Literal: l})
			}
			ps = append(ps, TemplatePart{Placeholder: names[(i+rng.IntN(2))%len(names)]})
		}
		if l := lits[rng.IntN(len(lits))]; l != "" {
			ps = append(ps, TemplatePart{Literal: l})
		}
		return ps
	}
	pruned := 0
	for range 600 {
		a, b := gen(), gen()
		_, want := automataOverlap(a, b)
		if !edgesAgree(a, b) {
			pruned++
		}
		for range 2 {
			if _, got := templatesOverlap(a, b); got != want {
				t.Fatalf("templatesOverlap(%q, %q) = %v, the automata say %v", templateText(a), templateText(b), got, want)
			}
		}
	}
	if pruned < 100 {
		t.Fatalf("only %d pairs settled by their literal ends; the test proves little", pruned)
	}
}

// TestSubjectTemplateOverlapsAny: the first other template that differs and overlaps is
// returned; the same template (or the default, written out or empty) never overlaps; an other
// that breaks today's rules but parses is compared; an other that does not parse is skipped.
func TestSubjectTemplateOverlapsAny(t *testing.T) {
	const held = "repo:{callerId}:run:{runId}:{scope}"
	for _, tc := range []struct {
		name   string
		t      string
		others []string
		want   string
	}{
		{"the same template", held, []string{held}, ""},
		{"the default, written out", DefaultSubjectTemplate, []string{""}, ""},
		{"a sub the held pattern matches", "repo:v:run:{callerId}:{scope}", []string{"x:{callerId}:{scope}", held}, held},
		{"literal text apart", "team-d:{callerId}:{scope}", []string{held, ""}, ""},
		{"an other without {scope}", "a:{callerId}:{scope}", []string{"a:{callerId}:write"}, "a:{callerId}:write"},
		{"an other that does not parse", "a:{callerId}:{scope}", []string{"a:{callerId:{scope}"}, ""},
		{"a template breaking the rules", "a:{callerId}", []string{"a:{callerId}:{scope}"}, ""},
		// A stored template older than the rule refusing "*" and "?" in literal text has them
		// written into its trust pattern, where they are the StringLike wildcards: its pattern
		// "x*s1:write" matches "xz:evil-s1:write", the sub of stack evil-s1 here.
		{"an other's '*', leading", "xz:{callerId}:{scope}", []string{"x*{callerId}:{scope}"}, "x*{callerId}:{scope}"},
		{"an other's '?'", "xz:{callerId}:{scope}", []string{"x?:{callerId}:{scope}"}, "x?:{callerId}:{scope}"},
		{"an other's '*', trailing", "a:{callerId}:{scope}:x", []string{"a:{callerId}:{scope}*"}, "a:{callerId}:{scope}*"},
	} {
		got, ok := SubjectTemplateOverlapsAny(tc.t, tc.others)
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("%s: got %q %v, want %q", tc.name, got, ok, tc.want)
		}
	}
}
