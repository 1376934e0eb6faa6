package catalog

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"

	"github.com/brokerhq/broker/internal/config"
)

// Why the store keeps every subject template a space has held:
//
// The cloud trust policies printed for a stack name the subs its space's template makes, and
// outlive the template: a template changed, or its space deleted, leaves them installed. The
// overlap check of validation compares only the templates in force, so once a template left the
// catalog, another space could be given a different template making subs those policies still
// match, and a stack there (its id new, so that no stack tombstone stands in the way) would get
// the old stack's roles: its administrators need hold the run rights only on their own space.
// So the store records each template a space holds (a record that outlives the template), and a
// space given a template through the API may not take one that overlaps a recorded template it
// is not. The same template is safe: every template names {callerId}, stack ids are unique, and
// a deleted stack's id does not come back elsewhere (see comesBack).

// kindTemplate is the kind of the store's records of subject templates. It is no catalog
// object's kind: a record is a tombstone (see tombstoneBody) whose place is the template's text,
// so a replica of a release that predates the records reads it as the tombstone of an object of
// a kind it never looks up, and keeps taking the store's changes during a rolling upgrade.
const kindTemplate Kind = "subject_template"

// MaxHeldTemplates bounds the subject templates the store records (see heldTemplates). Past
// it, the API gives a space only a template recorded already: each template given is compared
// with every recorded one.
const MaxHeldTemplates = 1000

// HeldTemplateMessage tells of a template refused for overlapping one a space held, without
// quoting it: the caller may hold no binding on that space.
const HeldTemplateMessage = "the subject template overlaps one a space holds or held: the two can give one sub, or one can give a sub the other's run id wildcard matches, " +
	"and the cloud trust policies written for the other may still be installed; make its literal text differ from every such template, for example by a prefix of its own, " +
	"or use the same template"

// templateRef names the store's record of the subject template t.
func templateRef(t string) Ref {
	sum := sha256.Sum256([]byte("broker subject template " + t))
	return Ref{Kind: kindTemplate, ID: hex.EncodeToString(sum[:16])}
}

// heldTemplates returns the subject templates v's records keep.
func heldTemplates(v Versioned) map[string]bool {
	out := map[string]bool{}
	for r, t := range v.From {
		if r.Kind == kindTemplate {
			out[t] = true
		}
	}
	return out
}

// templateRecords returns the records of the effective subject templates the spaces of cats
// hold that v does not record yet, at now (Unix milliseconds), sorted.
func templateRecords(v Versioned, now int64, cats ...*Catalog) []Change {
	held := heldTemplates(v)
	var out []Change
	for _, c := range cats {
		if c == nil {
			continue
		}
		for _, s := range c.Objects().Spaces {
			t := config.EffectiveSubjectTemplate(s.SubjectTemplate)
			if held[t] {
				continue
			}
			held[t] = true
			r := templateRef(t)
			out = append(out, Change{Record: Record{Ref: r, Version: v.Versions[r] + 1, Created: now, Body: tombstoneBody(t)}})
		}
	}
	slices.SortFunc(out, func(a, b Change) int { return cmp.Compare(a.Ref.ID, b.Ref.ID) })
	return out
}

// checkHeldTemplate refuses obj, put through the API over before (nil when none), when it is a
// space given a template it did not hold that overlaps a template of held (see
// config.SubjectTemplatesOverlap), or, held counting MaxHeldTemplates or more, one held does not
// hold. Templates that are the same never overlap. The template overlapped goes to Withheld.
func checkHeldTemplate(held map[string]bool, before, obj any) error {
	s, ok := obj.(config.Space)
	if !ok {
		return nil
	}
	t := config.EffectiveSubjectTemplate(s.SubjectTemplate)
	if b, ok := before.(config.Space); ok && config.EffectiveSubjectTemplate(b.SubjectTemplate) == t {
		return nil
	}
	if held[t] {
		return nil
	}
	if len(held) >= MaxHeldTemplates {
		return &ChangeError{Kind: ErrInvalid, Field: "subjectTemplate", Messages: []string{fmt.Sprintf(
			"the store records %d subject templates that spaces hold or held, the most it keeps: use one of them, or set this one in the configuration file", len(held))}}
	}
	for _, h := range slices.Sorted(maps.Keys(held)) {
		if config.SubjectTemplatesOverlap(h, t) {
			return &ChangeError{Kind: ErrInvalid, Field: "subjectTemplate", Messages: []string{HeldTemplateMessage},
				Withheld: []string{fmt.Sprintf("space %q: template %q overlaps %q, which a space holds or held", s.ID, t, h)}}
		}
	}
	return nil
}

// heldOrInForce is held with the effective templates of the spaces of c added.
func heldOrInForce(held map[string]bool, c *Catalog) map[string]bool {
	if c == nil {
		return held
	}
	for _, s := range c.Objects().Spaces {
		held[config.EffectiveSubjectTemplate(s.SubjectTemplate)] = true
	}
	return held
}
