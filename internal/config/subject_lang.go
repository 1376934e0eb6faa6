package config

import (
	"strings"
	"sync"
)

// This file models the set of `sub` strings a subject template can render, as a small
// nondeterministic automaton, so that two such sets (or a trust pattern and a set) can be
// checked for a common string. Placeholder values are over-approximated by their alphabets, so
// "no common string" is a proof, and a common string may be a false alarm, never the reverse.

// anyChar is what a trust wildcard matches: every byte.
var anyChar = charSet{^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0)}

// readable is the order in which pick prefers characters, so examples in messages read well.
const readable = "abcdefghijklmnopqrstuvwxyz0123456789-ABCDEFGHIJKLMNOPQRSTUVWXYZ_:/."

// pick returns a member of a non-empty set.
func (s charSet) pick() byte {
	for i := 0; i < len(readable); i++ {
		if s.has(readable[i]) {
			return readable[i]
		}
	}
	for c := 0; c < 256; c++ {
		if s.has(byte(c)) {
			return byte(c)
		}
	}
	return 0
}

// edge is a transition on any character of set.
type edge struct {
	set charSet
	to  int
}

// nfa is an automaton with start state 0, built by appending pieces at state cur.
type nfa struct {
	eps   [][]int
	edges [][]edge
	cur   int
}

// newNFA returns an automaton of one state, with room for about size states.
func newNFA(size int) *nfa {
	n := &nfa{eps: make([][]int, 0, size), edges: make([][]edge, 0, size)}
	n.cur = n.state()
	return n
}

func (n *nfa) state() int {
	n.eps = append(n.eps, nil)
	n.edges = append(n.edges, nil)
	return len(n.eps) - 1
}

func (n *nfa) edge(from int, set charSet, to int) {
	n.edges[from] = append(n.edges[from], edge{set, to})
}

// literal appends the exact text s.
func (n *nfa) literal(s string) {
	for i := 0; i < len(s); i++ {
		t := n.state()
		n.edge(n.cur, charSet{}.with(s[i]), t)
		n.cur = t
	}
}

// value appends any value of v.
func (n *nfa) value(v valueChars) {
	t := n.state()
	n.edge(n.cur, v.first, t)
	n.edge(t, v.rest, t)
	n.cur = t
}

// valueExcept appends any value of v other than x.
func (n *nfa) valueExcept(v valueChars, x string) {
	if !v.accepts(x) {
		n.value(v)
		return
	}
	exit, tail := n.state(), n.state()
	n.edge(tail, v.rest, tail)
	n.eps[tail] = append(n.eps[tail], exit)
	q := n.cur
	for i := 0; i < len(x); i++ {
		set := v.rest
		if i == 0 {
			set = v.first
		}
		if other := set.without(x[i]); !other.empty() { // differs from x first at i
			n.edge(q, other, tail)
		}
		next := n.state()
		n.edge(q, setOf(x[i:i+1]), next)
		q = next
		if i+1 < len(x) { // a proper, non-empty prefix of x
			n.eps[q] = append(n.eps[q], exit)
		}
	}
	n.edge(q, v.rest, tail) // x and more
	n.cur = exit
}

// wildcard appends what "*" matches in a trust pattern: any text, empty included.
func (n *nfa) wildcard() {
	t := n.state()
	n.eps[n.cur] = append(n.eps[n.cur], t)
	n.edge(t, anyChar, t)
	n.cur = t
}

// langOptions says how placeholders render.
type langOptions struct {
	// pattern renders {runId} as the trust wildcard.
	pattern bool
	// except maps a placeholder to the one value it may not take.
	except map[string]string
}

// templateNFA returns the automaton of the subs parts can render. An unknown placeholder may
// render as anything. In a trust pattern the literal text is written as it stands, so a "*" or
// "?" in it (which a stored template older than the rule refusing them may hold) is the
// pattern's wildcard there.
func templateNFA(parts []TemplatePart, o langOptions) *nfa {
	n := newNFA(128)
	for _, p := range parts {
		v, known := placeholderChars[p.Placeholder]
		switch {
		case p.Placeholder == "" && o.pattern:
			n.patternText(p.Literal)
		case p.Placeholder == "":
			n.literal(p.Literal)
		case !known || (o.pattern && p.Placeholder == "runId"):
			n.wildcard()
		default:
			if x, ok := o.except[p.Placeholder]; ok {
				n.valueExcept(v, x)
			} else {
				n.value(v)
			}
		}
	}
	return n
}

// patternNFA returns the automaton of the texts an AWS StringLike pattern matches.
func patternNFA(pattern string) *nfa {
	n := newNFA(len(pattern) + 8)
	n.patternText(pattern)
	return n
}

// patternText appends what the StringLike text s matches: "*" any text, "?" any one character,
// every other character itself.
func (n *nfa) patternText(s string) {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '*':
			n.wildcard()
		case '?':
			t := n.state()
			n.edge(n.cur, anyChar, t)
			n.cur = t
		default:
			n.literal(s[i : i+1])
		}
	}
}

// step is how a pair of states was first reached: from pair prev, reading c (-1: no input).
type step struct{ prev, c int }

// common returns a text both automata accept, and whether there is one.
func common(a, b *nfa) (string, bool) {
	nb := len(b.eps)
	// seen[k] is how pair k = (state of a)*nb + (state of b) was first reached; few pairs are.
	seen := map[int]step{0: {-1, -1}}
	queue := []int{0}
	// pair numbers the pair of state pa of a and state pb of b.
	pair := func(pa, pb int) int { return pa*nb + pb }
	// visit queues pair k, reached by how, unless it was reached before.
	visit := func(k int, how step) {
		if _, ok := seen[k]; !ok {
			seen[k] = how
			queue = append(queue, k)
		}
	}
	goal := pair(a.cur, b.cur)
	for len(queue) > 0 {
		k := queue[0]
		queue = queue[1:]
		if k == goal {
			return witness(seen, k), true
		}
		pa, pb := k/nb, k%nb
		for _, t := range a.eps[pa] {
			visit(pair(t, pb), step{k, -1})
		}
		for _, t := range b.eps[pb] {
			visit(pair(pa, t), step{k, -1})
		}
		for _, ea := range a.edges[pa] {
			for _, eb := range b.edges[pb] {
				if both := ea.set.and(eb.set); !both.empty() {
					visit(pair(ea.to, eb.to), step{k, int(both.pick())})
				}
			}
		}
	}
	return "", false
}

// witness spells the text read on the way from pair 0 to pair k.
func witness(seen map[int]step, k int) string {
	var rev []byte
	for k != 0 {
		if s := seen[k]; s.c >= 0 {
			rev = append(rev, byte(s.c))
		}
		k = seen[k].prev
	}
	var b strings.Builder
	for i := len(rev) - 1; i >= 0; i-- {
		b.WriteByte(rev[i])
	}
	return b.String()
}

// templatesOverlap returns a sub that both templates can render, or that one renders and the
// other's trust pattern (its {runId} as "*") matches; ok is false when there is none. Every
// validation of a catalog asks it of every pair of distinct templates, so pairs whose literal
// ends already tell them apart are settled without the automata, and the answers for the rest
// are remembered.
func templatesOverlap(a, b []TemplatePart) (example string, ok bool) {
	if !edgesAgree(a, b) {
		return "", false
	}
	key := templateText(a) + "\x00" + templateText(b)
	if r, ok := overlaps.get(key); ok {
		return r.example, r.ok
	}
	example, ok = automataOverlap(a, b)
	overlaps.put(key, overlapResult{example, ok})
	return example, ok
}

// automataOverlap is templatesOverlap worked out on the templates' automata.
func automataOverlap(a, b []TemplatePart) (example string, ok bool) {
	if w, ok := common(templateNFA(a, langOptions{pattern: true}), templateNFA(b, langOptions{})); ok {
		return w, true
	}
	return common(templateNFA(a, langOptions{}), templateNFA(b, langOptions{pattern: true}))
}

// edgesAgree reports whether a and b could give one sub as far as their literal ends tell: every
// sub a template renders, and every text its pattern matches, starts with the template's leading
// literal text up to its first wildcard character and ends with its trailing one after its
// last, so of two templates one's must be a prefix (a suffix) of the other's.
func edgesAgree(a, b []TemplatePart) bool {
	la, lb := leadingFixed(edgeLiteral(a, 0)), leadingFixed(edgeLiteral(b, 0))
	ta, tb := trailingFixed(edgeLiteral(a, len(a)-1)), trailingFixed(edgeLiteral(b, len(b)-1))
	return (strings.HasPrefix(la, lb) || strings.HasPrefix(lb, la)) &&
		(strings.HasSuffix(ta, tb) || strings.HasSuffix(tb, ta))
}

// leadingFixed is s up to its first "*" or "?": what every text s matches as a pattern starts
// with.
func leadingFixed(s string) string {
	if i := strings.IndexAny(s, "*?"); i >= 0 {
		return s[:i]
	}
	return s
}

// trailingFixed is s after its last "*" or "?": what every text s matches as a pattern ends
// with.
func trailingFixed(s string) string {
	return s[strings.LastIndexAny(s, "*?")+1:]
}

// edgeLiteral is the literal text of parts[i], "" when it is a placeholder or out of range.
func edgeLiteral(parts []TemplatePart, i int) string {
	if i < 0 || i >= len(parts) || parts[i].Placeholder != "" {
		return ""
	}
	return parts[i].Literal
}

// templateText is the template parts were split from.
func templateText(parts []TemplatePart) string {
	var b strings.Builder
	for _, p := range parts {
		if p.Placeholder != "" {
			b.WriteString("{" + p.Placeholder + "}")
		} else {
			b.WriteString(p.Literal)
		}
	}
	return b.String()
}

// overlapResult is one remembered answer of templatesOverlap.
type overlapResult struct {
	example string
	ok      bool
}

// overlapMemo remembers templatesOverlap's answers, up to maxOverlapMemo of them (then it starts
// afresh), for every validation in the process.
type overlapMemo struct {
	mu sync.Mutex
	m  map[string]overlapResult
}

const maxOverlapMemo = 1 << 16

var overlaps overlapMemo

func (o *overlapMemo) get(key string) (overlapResult, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	r, ok := o.m[key]
	return r, ok
}

func (o *overlapMemo) put(key string, r overlapResult) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.m == nil || len(o.m) >= maxOverlapMemo {
		o.m = make(map[string]overlapResult)
	}
	o.m[key] = r
}

// SubjectOwner is the caller and scope a set of subjects is meant for: SubjectsMatchOther looks for
// subs of any other caller or scope.
type SubjectOwner struct {
	// CallerID is the {callerId} of the owner's subs: a stack's id.
	CallerID string
	// Scope is the {scope} of the owner's subs: "read" or "write".
	Scope string
}

// SubjectsMatchOther returns a sub that template (a subject_template, "" for the default) can
// render for a stack other than owner.CallerID, or for a scope other than owner.Scope, and one
// of patterns (AWS StringLike patterns: "*" any text, "?" any one character) that matches it;
// ok is false when there is none. It reads the template's placeholders whatever the template
// rules say, so it also judges templates those rules refuse.
func SubjectsMatchOther(patterns []string, template string, owner SubjectOwner) (pattern, example string, ok bool) {
	parts, _ := SplitSubjectTemplate(EffectiveSubjectTemplate(template))
	others := []*nfa{
		templateNFA(parts, langOptions{except: map[string]string{"callerId": owner.CallerID}}),
		templateNFA(parts, langOptions{except: map[string]string{"scope": owner.Scope}}),
	}
	for _, pattern := range patterns {
		p := patternNFA(pattern)
		for _, other := range others {
			if w, ok := common(p, other); ok {
				return pattern, w, true
			}
		}
	}
	return "", "", false
}
