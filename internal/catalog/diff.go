package catalog

import (
	"reflect"
	"slices"
)

// FileDiff names the objects that differ between two versions of the file's objects, as a
// reload's audit event lists them: "added stack dns", "removed role reader", "changed
// integration aws-prod", sorted. It names objects only, never a field's value.
func FileDiff(before, after Objects) []string {
	old, cur := before.byRef(), after.byRef()
	var out []string
	for r, o := range cur {
		switch prev, ok := old[r]; {
		case !ok:
			out = append(out, "added "+r.String())
		case !reflect.DeepEqual(prev, o):
			out = append(out, "changed "+r.String())
		}
	}
	for r := range old {
		if _, ok := cur[r]; !ok {
			out = append(out, "removed "+r.String())
		}
	}
	slices.Sort(out)
	return out
}

// byRef indexes o's objects by reference.
func (o Objects) byRef() map[Ref]any {
	m := make(map[Ref]any, o.Len())
	for _, x := range o.Spaces {
		m[Ref{KindSpace, x.ID}] = x
	}
	for _, x := range o.Stacks {
		m[Ref{KindStack, x.ID}] = x
	}
	for _, x := range o.Integrations {
		m[Ref{KindIntegration, x.ID}] = x
	}
	for _, x := range o.Attachments {
		m[Ref{KindAttachment, AttachmentID(x.Stack, x.Integration)}] = x
	}
	for _, x := range o.Roles {
		m[Ref{KindRole, x.ID}] = x
	}
	for _, x := range o.APIKeys {
		m[Ref{KindAPIKey, x.ID}] = x
	}
	return m
}
