package catalog

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"

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
// object's kind: a record is a tombstone (see tombstoneBody) whose place is the template's text
// and path (see heldTemplate.encode), so a replica of a release that predates the records reads it as the tombstone of an object of
// a kind it never looks up, and keeps taking the store's changes during a rolling upgrade.
const kindTemplate Kind = "subject_template"

// MaxHeldTemplates bounds the subject templates, the default left out, the store records (see
// heldTemplates). Past it, the API gives a space only a template recorded already: each template
// given is compared with every recorded one. Each subtree has its share of it (see
// HeldTemplateShare).
const MaxHeldTemplates = 1000

// HeldTemplateShare is how many of the recorded subject templates the spaces of the subtree of
// a space depth levels below root may have brought: half its parent's share, root's being
// MaxHeldTemplates, and at least one. A record outlives the template, so a team cycling
// through templates on its own spaces spends at most half of any ancestor's share, and leaves
// the rest to the other subtrees.
func HeldTemplateShare(depth int) int { return config.HalvedShare(MaxHeldTemplates, depth) }

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

// heldTemplate is what the store's record of a subject template keeps: the template, and the
// path (root first) of the space that held it when it was first recorded, whose subtrees'
// shares it counts in (see HeldTemplateShare).
type heldTemplate struct {
	Template string
	Path     []string
}

// encode is the text the record keeps after tombstoneFrom: the template, a line feed (which no
// template holds), and the path's ids joined by '/' (which no id holds).
func (h heldTemplate) encode() string {
	return h.Template + "\n" + strings.Join(h.Path, "/")
}

// decodeHeld reads a record's text (see heldTemplate.encode). A text without a line feed is a
// template alone, counted at root only.
func decodeHeld(text string) heldTemplate {
	t, path, ok := strings.Cut(text, "\n")
	if !ok || path == "" {
		return heldTemplate{Template: t}
	}
	return heldTemplate{Template: t, Path: strings.Split(path, "/")}
}

// heldTemplates maps each subject template v's records keep to the path it was recorded at.
func heldTemplates(v Versioned) map[string][]string {
	out := map[string][]string{}
	for r, text := range v.From {
		if r.Kind == kindTemplate {
			h := decodeHeld(text)
			out[h.Template] = h.Path
		}
	}
	return out
}

// templateRecords returns the records of the effective subject templates the spaces of cats
// hold that v does not record yet, at now (Unix milliseconds), sorted, each with the path of
// the first space of cats holding it.
func templateRecords(v Versioned, now int64, cats ...*Catalog) []Change {
	held := heldTemplates(v)
	var out []Change
	for _, c := range cats {
		if c == nil {
			continue
		}
		for _, s := range c.Objects().Spaces {
			t := config.EffectiveSubjectTemplate(s.SubjectTemplate)
			if _, ok := held[t]; ok {
				continue
			}
			h := heldTemplate{Template: t, Path: c.SpacePath(s.ID)}
			held[t] = h.Path
			r := templateRef(t)
			out = append(out, Change{Record: Record{Ref: r, Version: v.Versions[r] + 1, Created: now, Body: tombstoneBody(h.encode())}})
		}
	}
	slices.SortFunc(out, func(a, b Change) int { return cmp.Compare(a.Ref.ID, b.Ref.ID) })
	return out
}

// checkHeldTemplate refuses obj, put through the API over before (nil when none) to stand at
// path (root first), when it is a space given a template it did not hold that overlaps another
// template of held (see config.SubjectTemplateOverlapsAny), or that held does not hold while held
// counts MaxHeldTemplates, or the subtree of a space of path HeldTemplateShare, templates
// recorded there. A template held already is compared too: the file may set templates that
// overlap held ones, and a copy of such a template would take the subs the other's trust
// policies name to another space. The template overlapped goes to Withheld.
func checkHeldTemplate(held map[string][]string, path []string, before, obj any) error {
	s, ok := obj.(config.Space)
	if !ok {
		return nil
	}
	t := config.EffectiveSubjectTemplate(s.SubjectTemplate)
	if b, ok := before.(config.Space); ok && config.EffectiveSubjectTemplate(b.SubjectTemplate) == t {
		return nil
	}
	if h, ok := config.SubjectTemplateOverlapsAny(t, slices.Sorted(maps.Keys(held))); ok {
		return &ChangeError{Kind: ErrInvalid, Field: "subjectTemplate", Messages: []string{HeldTemplateMessage},
			Withheld: []string{fmt.Sprintf("space %q: template %q overlaps %q, which a space holds or held", s.ID, t, h)}}
	}
	if _, ok := held[t]; ok {
		return nil
	}
	counted := len(held)
	if _, ok := held[config.DefaultSubjectTemplate]; ok {
		counted--
	}
	if counted >= MaxHeldTemplates {
		return &ChangeError{Kind: ErrInvalid, Field: "subjectTemplate", Messages: []string{fmt.Sprintf(
			"the store records %d subject templates that spaces hold or held, the most it keeps: use one of them, or set this one in the configuration file", MaxHeldTemplates)}}
	}
	var recorded [][]string
	for h, p := range held {
		if h != config.DefaultSubjectTemplate {
			recorded = append(recorded, p)
		}
	}
	if a, n, share, full := fullShare(path, recorded, HeldTemplateShare); full {
		// The ancestor and its count are told to the log only: the caller may hold no binding
		// on that ancestor, whose count tells of other teams' spaces.
		return &ChangeError{Kind: ErrInvalid, Field: "subjectTemplate", Messages: []string{fmt.Sprintf(
			"a subtree this space lies in has brought its share of the subject templates the store keeps for good (each subtree's share is half its parent's, root's being %d): use one that a space holds or held, or set this one in the configuration file",
			MaxHeldTemplates)},
			Withheld: []string{fmt.Sprintf("space %q: the subtree of space %q has brought %d subject templates, its share of %d", s.ID, a, n, share)}}
	}
	return nil
}

// heldOrInForce is held with the effective templates of the spaces of c it lacks added, each
// at its space's path.
func heldOrInForce(held map[string][]string, c *Catalog) map[string][]string {
	if c == nil {
		return held
	}
	for _, s := range c.Objects().Spaces {
		t := config.EffectiveSubjectTemplate(s.SubjectTemplate)
		if _, ok := held[t]; !ok {
			held[t] = c.SpacePath(s.ID)
		}
	}
	return held
}

// fileOverlaps describes each space of file given a template held does not hold that overlaps
// one it holds: the file may set any template, but the trust policies written for the held one
// admit the subs of that space's stacks, which the operators are told of.
func fileOverlaps(held map[string][]string, file Objects) []string {
	var out []string
	keys := slices.Sorted(maps.Keys(held))
	for _, s := range file.Spaces {
		t := config.EffectiveSubjectTemplate(s.SubjectTemplate)
		if _, ok := held[t]; ok {
			continue
		}
		if h, ok := config.SubjectTemplateOverlapsAny(t, keys); ok {
			out = append(out, fmt.Sprintf("space %q: template %q overlaps %q", s.ID, t, h))
		}
	}
	return out
}

// warnFileOverlaps tells the operators of each space of file given a template held does not hold
// that overlaps one it holds (see fileOverlaps).
func warnFileOverlaps(log *slog.Logger, held map[string][]string, file Objects) {
	if over := fileOverlaps(held, file); len(over) > 0 {
		log.Warn("catalog: the configuration file gives spaces subject templates that overlap ones spaces held; the trust policies written for those admit these spaces' stacks, and the API gives these templates to no other space",
			"overlaps", over)
	}
}

// spaceTemplates is one change through the API, as the records of held templates see it: the
// store's objects before it, the catalogs in force before and after it, and the object it puts
// over the one it replaces (nil for a deletion, or for none).
type spaceTemplates struct {
	api           Versioned
	before, after *Catalog
	ref           Ref
	was, obj      any
}

// records refuses the change when it gives a space a template it may not take (see
// checkHeldTemplate), and otherwise returns the records of the templates in force before or
// after it that the store lacks (those that leave with it, and those it brings), noted in next,
// at now (Unix milliseconds). A change of another kind than a space changes no template.
func (st spaceTemplates) records(next *Versioned, now int64) ([]Change, error) {
	if st.ref.Kind != KindSpace {
		return nil, nil
	}
	if err := checkHeldTemplate(heldOrInForce(heldTemplates(st.api), st.before), st.after.SpacePath(st.ref.ID), st.was, st.obj); err != nil {
		return nil, err
	}
	recs := templateRecords(*next, now, st.before, st.after)
	for _, ch := range recs {
		next.noteTombstone(ch.Ref, ch.Version, ch.Created, ch.Body)
	}
	return recs, nil
}
