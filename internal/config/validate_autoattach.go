package config

import (
	"slices"
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

// EffectiveAttachments returns the attachments in force: the declared ones, then those every
// autoattach rule makes (integration by integration, rule by rule, stacks in declaration
// order). A rule attaches its integration to each stack carrying its label whose space may use
// the integration. The same pair may appear twice with different sources.
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
	forEachAuto(c, usable, func(_, _ int, a EffectiveAttachment) { out = append(out, a) })
	return out
}

// forEachAuto calls fn for every attachment an autoattach rule makes, with the indexes of the
// integration and of its rule.
func forEachAuto(c *Config, usable func(string) []string, fn func(in, rule int, a EffectiveAttachment)) {
	var byLabel map[string][]int
	for i, in := range c.Integrations {
		if len(in.Autoattach) == 0 {
			continue
		}
		if byLabel == nil {
			byLabel = labelIndex(c.Stacks)
		}
		for j, r := range in.Autoattach {
			for _, si := range byLabel[r.Label] {
				st := c.Stacks[si]
				if !slices.Contains(usable(st.Space), in.Space) {
					continue
				}
				fn(i, j, EffectiveAttachment{
					Attachment: Attachment{Stack: st.ID, Integration: in.ID, Read: r.Read, Write: r.Write},
					Source:     AutoattachSource(r.Label),
				})
			}
		}
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

// checkLabels checks that labels follow the id rule and are not repeated on one object.
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
	}
}

// checkAutoattach checks each autoattach rule and that, with the attachments the rules make,
// every stack still has at most one read and one write integration per provider.
func (v *validator) checkAutoattach() {
	c := v.c
	for i, in := range c.Integrations {
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
