package config

import (
	"fmt"
	"slices"
	"strings"
)

// DefaultSubjectTemplate is the `sub` format of a space that sets no subject_template.
const DefaultSubjectTemplate = "space:{spaceId}:stack:{callerId}:run_type:{runType}:scope:{scope}"

// MaxSubjectTemplate bounds the length of a subject_template, in bytes.
const MaxSubjectTemplate = 256

// RequiredPlaceholders must appear in every subject template: a `sub` names its stack and its
// scope, so that no two stacks, and never the read and the write runs of one stack, share one.
var RequiredPlaceholders = []string{"callerId", "scope"}

// EffectiveSubjectTemplate is the template a space with subject_template t uses: t, or
// DefaultSubjectTemplate when t is empty.
func EffectiveSubjectTemplate(t string) string {
	if t == "" {
		return DefaultSubjectTemplate
	}
	return t
}

// Why the rules below make a template's `sub` name one stack and one scope:
//
// Every placeholder value is drawn from a known alphabet (placeholderChars); none holds ':' and
// only {spacePath} holds '/'. A literal between two placeholders must hold ':', or '/' when
// neither neighbour is {spacePath}: a character c that neither neighbour's values can hold.
// Reading a `sub` from the left, a value ends just before the separator's first c, since the
// value holds no c; reading from the right, a value starts just after the separator's last c.
// So a template's `sub` yields one value per placeholder, whichever end it is read from, and as
// {callerId} and {scope} are required, one stack and one scope.
//
// Next to {spacePath} only ':' will do. A path holds '/' itself, so in "{spacePath}/{callerId}"
// read from the left "root/a/b/c" could end the path at any '/'. Whether that ever lets two subs
// meet depends on the rest of the template; the rule asks for ':' there instead of leaving it
// to case-by-case reasoning, and keeps the "whichever end" argument above true.
//
// `broker trust` prints {runId} as the wildcard "*", which matches any text, ':' included. The
// literal text before the wildcard pins every value to its left (read from the left), the text
// after it every value to its right (read from the right), so a `sub` of the template that the
// pattern matches has the pattern's stack and scope, whatever the wildcard swallows. That needs
// literals free of the wildcard characters '*' and '?', hence the literal rule. A placeholder at
// either end of the template is bounded by the end of the `sub`, which serves as well.
//
// Spaces with different templates are another matter, checked across the configuration by
// checkTemplateOverlaps.

// ruleProblems lists how a template that parsed (parts) breaks the rules above.
func ruleProblems(t string, parts []TemplatePart) []string {
	var problems []string
	if len(t) > MaxSubjectTemplate {
		problems = append(problems, fmt.Sprintf("longer than %d bytes", MaxSubjectTemplate))
	}
	for _, name := range RequiredPlaceholders {
		if !slices.ContainsFunc(parts, func(p TemplatePart) bool { return p.Placeholder == name }) {
			problems = append(problems, fmt.Sprintf("missing {%s}: every sub must name its %s", name, requiredWhat[name]))
		}
	}
	for i, p := range parts {
		if p.Placeholder == "" {
			problems = append(problems, literalProblems(p.Literal)...)
			continue
		}
		if i+1 >= len(parts) {
			continue
		}
		next := parts[i+1]
		switch {
		case next.Placeholder != "":
			problems = append(problems, fmt.Sprintf("{%s} and {%s} need a separator holding %s between them",
				p.Placeholder, next.Placeholder, separatorsFor(p.Placeholder, next.Placeholder)))
		case i+2 < len(parts) && !separates(next.Literal, p.Placeholder, parts[i+2].Placeholder):
			problems = append(problems, fmt.Sprintf("separator %q between {%s} and {%s} must hold %s",
				next.Literal, p.Placeholder, parts[i+2].Placeholder, separatorsFor(p.Placeholder, parts[i+2].Placeholder)))
		}
	}
	return problems
}

// requiredWhat names what each required placeholder stands for, for messages.
var requiredWhat = map[string]string{"callerId": "stack", "scope": "scope (read or write)"}

// separatorChars are the characters that may separate two placeholders, when neither
// placeholder's values can hold them.
const separatorChars = ":/"

// separates reports whether literal holds a character that may separate placeholders a and b.
func separates(literal, a, b string) bool {
	return strings.ContainsAny(literal, string(separatorBytes(a, b)))
}

// separatorBytes returns the separator characters neither a's nor b's values can hold.
func separatorBytes(a, b string) []byte {
	var out []byte
	for i := 0; i < len(separatorChars); i++ {
		c := separatorChars[i]
		if !placeholderChars[a].holds(c) && !placeholderChars[b].holds(c) {
			out = append(out, c)
		}
	}
	return out
}

// separatorsFor names separatorBytes(a, b) for a message: "':' or '/'".
func separatorsFor(a, b string) string { return quoteChars(separatorBytes(a, b)) }

// quoteChars renders characters for a message: "':'" or "':' or '/'".
func quoteChars(cs []byte) string {
	q := make([]string, len(cs))
	for i, c := range cs {
		q[i] = fmt.Sprintf("'%c'", c)
	}
	return strings.Join(q, " or ")
}

// literalProblems lists the characters a template literal may not hold: anything but printable
// ASCII, and the wildcards '*' and '?' of AWS StringLike conditions, which `broker trust` prints.
func literalProblems(lit string) []string {
	var problems []string
	seen := map[rune]bool{}
	for _, r := range lit {
		if seen[r] {
			continue
		}
		seen[r] = true
		switch {
		case r == '*' || r == '?':
			problems = append(problems, fmt.Sprintf("literal text may not hold the wildcard %q", r))
		case r <= ' ' || r > '~':
			problems = append(problems, fmt.Sprintf("literal text may hold only printable ASCII, not %q", r))
		}
	}
	return problems
}

// MaxSubjectTemplates is how many distinct subject templates the API lets the spaces hold (the
// file, which the operators write, may hold more).
const MaxSubjectTemplates = 100

// SubtreeTemplateShare is how many distinct subject templates, the default left out, the API
// lets the subtree of a space depth levels below root hold: half its parent's share, root's
// being MaxSubjectTemplates, and at least one. A key holding space:admin on one space alone so
// never spends more than half of any ancestor's share, and leaves the rest of the catalog's cap
// to the other subtrees.
func SubtreeTemplateShare(depth int) int { return HalvedShare(MaxSubjectTemplates, depth) }

// HalvedShare is the share of whole that the subtree of a space depth levels below root gets:
// whole at root, half its parent's share below, and at least one.
func HalvedShare(whole, depth int) int {
	share := whole
	for range depth {
		if share <= 1 {
			return 1
		}
		share /= 2
	}
	return max(share, 1)
}

// checkTemplateOverlaps reports every pair of spaces whose different templates could give two
// stacks, or the two scopes of one stack, one `sub`: a sub both can render, or one that either
// renders and the other's trust pattern ({runId} as "*") matches. The rules above settle spaces
// that share one template (stack ids are unique across spaces); templates that differ must not
// meet at all. A template "space:prod:stack:vpc-{callerId}:..." in space dev would otherwise
// give its stack "prod" the sub of stack vpc-prod under the default template.
//
// Every pair is compared at every validation (each change through the API, on every replica), so
// the API adds no template past MaxSubjectTemplates distinct ones: past it, the pairs' cost grows
// to seconds per change.
func (v *validator) checkTemplateOverlaps() {
	type seenTemplate struct {
		text  string
		index int
		parts []TemplatePart
	}
	var seen []seenTemplate
	for i, s := range v.c.Spaces {
		if j, ok := v.spaces[s.ID]; ok && j != i {
			continue // a duplicate, reported already
		}
		t := EffectiveSubjectTemplate(s.SubjectTemplate)
		parts, problems := SplitSubjectTemplate(t)
		if len(problems) > 0 || slices.ContainsFunc(seen, func(o seenTemplate) bool { return o.text == t }) {
			continue
		}
		for _, o := range seen {
			if example, overlap := templatesOverlap(o.parts, parts); overlap {
				v.add(joinIndex("spaces", i)+".subject_template", s.SubjectTemplate,
					overlapLead+": template %q can give a sub that template %q of spaces[%d] also gives, or that its run id wildcard matches (e.g. %q); make the literal text of one differ from the other's, for example by a prefix of its own",
					t, o.text, o.index, example)
			}
		}
		seen = append(seen, seenTemplate{t, i, parts})
	}
}

// overlapLead starts the message of every problem checkTemplateOverlaps reports. The rest of
// the message quotes both templates, the other space's place in the list and an example sub:
// detail for the operators who read the file's errors and the server log.
const overlapLead = "overlaps another space's subject template"

// TemplateOverlapMessage tells of a template-overlap problem without quoting the other space:
// neither its id, nor its template, nor an example sub (made from both templates). An API
// refusal says this to the caller, who may hold no binding on the other space.
const TemplateOverlapMessage = "the subject template overlaps another space's: the two can give one sub, or one can give a sub the other's run id wildcard matches; " +
	"make its literal text differ from every other space's template, for example by a prefix of its own"

// SubjectTemplateOverlapsAny returns the first template of others ("" for the default) that
// differs from t and can give a sub t also gives, or one either's trust pattern ({runId} as
// "*") matches in the other's subs: the test checkTemplateOverlaps applies to the templates of
// two spaces. ok is false when there is none. A template of others that breaks today's rules
// but parses is compared all the same; one that does not parse, like a t that breaks the rules
// (which validation reports), overlaps nothing here.
func SubjectTemplateOverlapsAny(t string, others []string) (overlapped string, ok bool) {
	t = EffectiveSubjectTemplate(t)
	pt, problems := SplitSubjectTemplate(t)
	if len(problems) > 0 {
		return "", false
	}
	for _, o := range others {
		o = EffectiveSubjectTemplate(o)
		if o == t {
			continue
		}
		po, problems := splitTemplateParts(o)
		if len(problems) > 0 {
			continue
		}
		if _, ok := templatesOverlap(po, pt); ok {
			return o, true
		}
	}
	return "", false
}

// IsTemplateOverlap reports whether fe is a problem checkTemplateOverlaps reports, whose message
// quotes another space's template, its place in the list and an example sub.
func IsTemplateOverlap(fe *FieldError) bool {
	return strings.HasSuffix(fe.Path, ".subject_template") && strings.HasPrefix(fe.Msg, overlapLead+": ")
}
