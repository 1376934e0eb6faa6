package config

import (
	"slices"
	"strconv"
)

// MaxAutoattachRules bounds the autoattach rules of one integration and MaxStackLabels the
// labels of one stack, so that working out the attachments in force costs at most their
// product per stack and integration.
const (
	MaxAutoattachRules = 64
	MaxStackLabels     = 64
)

// SourceDirect is the source of an attachment declared as such; an attachment made by an
// integration's autoattach rule has the source AutoattachSource(label).
const SourceDirect = "direct"

// AutoattachSource is the source of an attachment made by an autoattach rule on label.
func AutoattachSource(label string) string { return "autoattach:" + label }

// EffectiveAttachment is an attachment in force, with where it comes from.
type EffectiveAttachment struct {
	Attachment
	// Source is SourceDirect or AutoattachSource(label).
	Source string
}

// slotUse is who holds a read or write slot of a stack.
type slotUse struct {
	integration, source string
}

// EffectiveAttachments returns the attachments in force: the declared ones, then those the
// autoattach rules make (integration by integration, then in the order rule by rule, stacks in
// declaration order, first reaches them). A rule attaches its integration to each stack
// carrying its label whose space may use the integration. An integration makes one automatic
// attachment per stack, whose read and write are those of all its rules matching the stack
// together and whose source names the first of them; a direct attachment of the same pair
// comes first, and is listed besides.
func (c *Config) EffectiveAttachments() []EffectiveAttachment {
	out := make([]EffectiveAttachment, 0, len(c.Attachments))
	for _, a := range c.Attachments {
		out = append(out, EffectiveAttachment{Attachment: a, Source: SourceDirect})
	}
	idx := c.spaceIndex()
	memo := map[string][]string{}
	usable := func(space string) []string {
		u, ok := memo[space]
		if !ok {
			u = usableSpaces(idx, space)
			memo[space] = u
		}
		return u
	}
	type pair struct {
		integration int
		stack       string
	}
	at := map[pair]int{} // where in out each automatic attachment is
	forEachAuto(c, usable, func(i, _ int, a EffectiveAttachment) {
		k, ok := at[pair{i, a.Stack}]
		if !ok {
			at[pair{i, a.Stack}] = len(out)
			out = append(out, a)
			return
		}
		out[k].Read = out[k].Read || a.Read
		out[k].Write = out[k].Write || a.Write
	})
	return out
}

// forEachAuto calls fn for every attachment an autoattach label of an integration makes, with
// the indexes of the integration and of the label's first rule (see labelRules).
func forEachAuto(c *Config, usable func(string) []string, fn func(in, rule int, a EffectiveAttachment)) {
	var byLabel map[string][]int
	for i, in := range c.Integrations {
		if len(in.Autoattach) == 0 {
			continue
		}
		if byLabel == nil {
			byLabel = labelIndex(c.Stacks)
		}
		for _, r := range labelRules(in.Autoattach) {
			for _, si := range byLabel[r.Label] {
				st := c.Stacks[si]
				if !slices.Contains(usable(st.Space), in.Space) {
					continue
				}
				fn(i, r.index, EffectiveAttachment{
					Attachment: Attachment{Stack: st.ID, Integration: in.ID, Read: r.Read, Write: r.Write},
					Source:     AutoattachSource(r.Label),
				})
			}
		}
	}
}

// labelRule is the rules of one integration on one label as one: the index of the first, and
// the read and write of any of them.
type labelRule struct {
	Autoattach
	index int
}

// labelRules returns rules one per label, in the order labels first appear. Validation refuses
// a label repeated in the rules a change puts; an integration stored before that rule existed
// attaches as though its rules on one label were one.
func labelRules(rules []Autoattach) []labelRule {
	out := make([]labelRule, 0, len(rules))
	first := make(map[string]int, len(rules)) // index in out of each label's rule
	for j, r := range rules {
		k, ok := first[r.Label]
		if !ok {
			first[r.Label] = len(out)
			out = append(out, labelRule{Autoattach: r, index: j})
			continue
		}
		out[k].Read = out[k].Read || r.Read
		out[k].Write = out[k].Write || r.Write
	}
	return out
}

// CheckLabelLimits reports, with paths under base (as "integrations[3]"), the problems of obj,
// a Stack or an Integration (any other object has none), under the rules that bound labels: an
// integration's autoattach rules name each label once and number at most MaxAutoattachRules, a
// stack carries at most MaxStackLabels labels. Validate checks them on the file's objects;
// ValidateObjects does not, so that an object stored through the API before the rules existed
// leaves every other change possible, and the API checks them on each object a change puts.
func CheckLabelLimits(obj any, base string) error {
	v := &validator{c: &Config{}}
	switch o := obj.(type) {
	case Integration:
		v.checkAutoattachLimits(base, o.Autoattach)
	case Stack:
		v.checkStackLabelLimit(base, o.Labels)
	}
	return v.errs.orNil()
}

// checkAutoattachLimits checks that rules, the autoattach rules of the integration at base,
// name each label once and number at most MaxAutoattachRules.
func (v *validator) checkAutoattachLimits(base string, rules []Autoattach) {
	p := base + ".autoattach"
	if len(rules) > MaxAutoattachRules {
		v.add(p, strconv.Itoa(len(rules)), "%d autoattach rules; an integration has at most %d", len(rules), MaxAutoattachRules)
	}
	first := make(map[string]int, len(rules))
	for j, r := range rules {
		if k, ok := first[r.Label]; ok {
			v.add(joinIndex(p, j)+".label", r.Label,
				"duplicate autoattach label %q (rule %d names it too); give each label one rule, with read and write as needed", r.Label, k)
			continue
		}
		first[r.Label] = j
	}
}

// checkStackLabelLimit checks that the stack at base carries at most MaxStackLabels labels.
func (v *validator) checkStackLabelLimit(base string, labels []string) {
	if len(labels) > MaxStackLabels {
		v.add(base+".labels", strconv.Itoa(len(labels)), "%d labels; a stack carries at most %d", len(labels), MaxStackLabels)
	}
}

// labelIndex maps each label to the indexes of the stacks carrying it.
func labelIndex(stacks []Stack) map[string][]int {
	out := map[string][]int{}
	for i, s := range stacks {
		for _, l := range s.Labels {
			if n := len(out[l]); n > 0 && out[l][n-1] == i {
				continue // a label repeated on one stack, reported by checkLabels
			}
			out[l] = append(out[l], i)
		}
	}
	return out
}

// checkLabels checks that labels follow the id rule and are not repeated on one object (with
// fileRules, also that a stack carries at most MaxStackLabels).
func (v *validator) checkLabels() {
	check := func(base string, labels []string) {
		seen := map[string]bool{}
		for j, l := range labels {
			p := joinIndex(base+".labels", j)
			switch {
			case !IDPattern.MatchString(l):
				v.add(p, l, "label %q must match %s (lower case letters, digits and '-', at most 63)", l, IDPattern)
			case seen[l]:
				v.add(p, l, "duplicate label %q", l)
			}
			seen[l] = true
		}
	}
	for i, s := range v.c.Spaces {
		check(joinIndex("spaces", i), s.Labels)
	}
	for i, s := range v.c.Stacks {
		check(joinIndex("stacks", i), s.Labels)
		if v.fileRules {
			v.checkStackLabelLimit(joinIndex("stacks", i), s.Labels)
		}
	}
}

// checkAutoattach checks each autoattach rule (with fileRules, also CheckLabelLimits's rules)
// and that, with the attachments the rules make, every stack still has at most one read and
// one write integration per provider.
func (v *validator) checkAutoattach() {
	c := v.c
	for i, in := range c.Integrations {
		if v.fileRules {
			v.checkAutoattachLimits(joinIndex("integrations", i), in.Autoattach)
		}
		for j, r := range in.Autoattach {
			p := joinIndex(joinIndex("integrations", i)+".autoattach", j)
			if !IDPattern.MatchString(r.Label) {
				v.add(p+".label", r.Label, "label %q must match %s (lower case letters, digits and '-', at most 63)", r.Label, IDPattern)
			}
			if !r.Read && !r.Write {
				v.add(p, "", "autoattach rule for label %q must set read: true, write: true or both", r.Label)
			}
		}
	}
	if v.slots == nil {
		v.slots = map[attachSlot]slotUse{}
	}
	forEachAuto(c, v.usable, func(i, j int, a EffectiveAttachment) {
		in := c.Integrations[i]
		provider := in.Provider()
		if provider == "" {
			return
		}
		p := joinIndex(joinIndex("integrations", i)+".autoattach", j)
		for _, scope := range scopesOf(a.Attachment) {
			slot := attachSlot{a.Stack, provider, scope}
			held, taken := v.slots[slot]
			if taken && held.integration != a.Integration {
				v.add(p, a.Stack,
					"stack %q would have two %s attachments for %s: integration %q (%s) and integration %q (%s); at most one per provider",
					a.Stack, scope, provider, held.integration, held.source, a.Integration, a.Source)
				v.errs[len(v.errs)-1].Conflict = true
				continue
			}
			if !taken {
				v.slots[slot] = slotUse{integration: a.Integration, source: a.Source}
			}
		}
	})
}
