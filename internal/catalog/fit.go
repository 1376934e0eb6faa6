package catalog

import (
	"errors"
	"slices"
	"strconv"

	"github.com/brokerhq/broker/internal/config"
)

// withoutCollisions returns in without the API objects the file declares too, each logged:
// the file wins. Validation at commit prevents such an object, except when another replica
// committed it before it had this replica's file. What the API made to refer to such an object
// is left out in turn, and what refers to that, never handed to the file's object of the same
// id: a key bound to an API role would hold the file role's actions, which its maker never
// held, and a stack in an API space would move into another line of administration.
func (m *Manager) withoutCollisions(in Input) Input {
	var coll *CollisionError
	if err := collisions(in.File, in.API.Objects); !errors.As(err, &coll) {
		return in
	}
	gone := map[Ref]bool{}
	for _, r := range coll.Refs {
		gone[r] = true
		in.API.Objects = in.API.Objects.without(r)
		m.log.Error("catalog: an object created through the API is also declared in the configuration file; the file's is in force", "kind", r.Kind, "id", r.ID)
	}
	for refs := referringTo(in.API.Objects, gone); len(refs) > 0; refs = referringTo(in.API.Objects, gone) {
		for _, r := range refs {
			gone[r] = true
			in.API.Objects = in.API.Objects.without(r)
			m.log.Error("catalog: an object created through the API refers to one the configuration file also declares; it is left out", "kind", r.Kind, "id", r.ID)
		}
	}
	return in
}

// referringTo lists the objects of o that name an object of gone: a space as parent, a stack's
// or an integration's space, an attachment's stack or integration, and a key binding's role or
// space.
func referringTo(o Objects, gone map[Ref]bool) []Ref {
	space := func(id string) bool { return gone[Ref{KindSpace, id}] }
	var out []Ref
	for _, s := range o.Spaces {
		if space(s.Parent) {
			out = append(out, Ref{KindSpace, s.ID})
		}
	}
	for _, s := range o.Stacks {
		if space(s.Space) {
			out = append(out, Ref{KindStack, s.ID})
		}
	}
	for _, in := range o.Integrations {
		if space(in.Space) {
			out = append(out, Ref{KindIntegration, in.ID})
		}
	}
	for _, a := range o.Attachments {
		if gone[Ref{KindStack, a.Stack}] || gone[Ref{KindIntegration, a.Integration}] {
			out = append(out, Ref{KindAttachment, AttachmentID(a.Stack, a.Integration)})
		}
	}
	for _, k := range o.APIKeys {
		if slices.ContainsFunc(k.Bindings, func(b config.Binding) bool {
			return space(b.Space) || gone[Ref{KindRole, b.Role}]
		}) {
			out = append(out, Ref{KindAPIKey, k.ID})
		}
	}
	return out
}

// buildFitting is Build where the file wins (see withoutCollisions) that also leaves out, and
// logs, each API object that does not fit the file: say a stack in a space that only another
// replica's newer file declares, committed there, or an object stored before a rule that
// refuses it. The catalog in force must follow the store whatever the file: a replica
// that kept its last catalog would keep, for instance, API keys deleted elsewhere, until a
// restart, and one that refused to start would be down. Leaving an object out only ever takes
// access away: what refers to it is left out in turn. When a problem names none of the API's
// objects (a file integration's autoattach rule meeting an API attachment, say), the API's
// objects that prev, the API objects of the catalog in force, does not hold at their version
// are left out instead: the others fitted then, and deletions still take effect. It returns
// the API objects it kept, and a problem that remains.
func (m *Manager) buildFitting(in Input, prev Versioned) (*Catalog, Versioned, error) {
	return leaveOut(m.withoutCollisions(in), prev, func(r Ref, problem string) {
		m.log.Error("catalog: an object created through the API does not fit this replica's configuration file or rules; "+
			"it is left out here until the files agree or it is replaced through the API", "kind", r.Kind, "id", r.ID, "problem", problem)
	})
}

// leaveOut is buildFitting's rule on in, whose file and API objects do not collide; it calls
// left with each API object it leaves out and its problem.
func leaveOut(in Input, prev Versioned, left func(r Ref, problem string)) (*Catalog, Versioned, error) {
	c, err := Build(in)
	heldBack := false
	for range in.API.Len() + 1 {
		var errs config.Errors
		if !errors.As(err, &errs) {
			break
		}
		unfit := apiObjectsOf(errs, in.File, in.API.Objects)
		if len(unfit) == 0 && !heldBack {
			heldBack = true
			unfit = newSince(in.API, prev, errs)
		}
		if len(unfit) == 0 {
			break
		}
		for r, problem := range unfit {
			in.API.Objects = in.API.Objects.without(r)
			left(r, problem)
		}
		c, err = Build(in)
	}
	return c, in.API, err
}

// newSince returns the objects of api that prev does not hold at the same version, each with
// the first of problems.
func newSince(api, prev Versioned, problems config.Errors) map[Ref]string {
	out := map[Ref]string{}
	why := "the catalog does not fit with it"
	if len(problems) > 0 {
		why = problems[0].Path + ": " + problems[0].Msg
	}
	api.each(func(r Ref) {
		if v, ok := prev.Versions[r]; !ok || v != api.Versions[r] || prev.find(r) == nil {
			out[r] = why
		}
	})
	return out
}

// apiObjectsOf maps the problems of the merged objects (the file's first) to the API objects
// they are found on, each with its first problem.
func apiObjectsOf(errs config.Errors, file, api Objects) map[Ref]string {
	out := map[Ref]string{}
	for _, fe := range errs {
		m := pathIndexRE.FindStringSubmatch(fe.Path)
		if m == nil {
			continue
		}
		i, err := strconv.Atoi(m[2])
		if err != nil {
			continue
		}
		var ref Ref
		switch m[1] {
		case "spaces":
			ref = refAt(api.Spaces, i-len(file.Spaces), func(s config.Space) Ref { return Ref{KindSpace, s.ID} })
		case "stacks":
			ref = refAt(api.Stacks, i-len(file.Stacks), func(s config.Stack) Ref { return Ref{KindStack, s.ID} })
		case "integrations":
			ref = refAt(api.Integrations, i-len(file.Integrations), func(s config.Integration) Ref { return Ref{KindIntegration, s.ID} })
		case "attachments":
			ref = refAt(api.Attachments, i-len(file.Attachments), func(a config.Attachment) Ref {
				return Ref{KindAttachment, AttachmentID(a.Stack, a.Integration)}
			})
		case "roles":
			ref = refAt(api.Roles, i-len(file.Roles), func(r config.Role) Ref { return Ref{KindRole, r.ID} })
		case "api_keys":
			ref = refAt(api.APIKeys, i-len(file.APIKeys), func(k config.APIKey) Ref { return Ref{KindAPIKey, k.ID} })
		}
		if _, seen := out[ref]; ref.ID != "" && !seen {
			out[ref] = fe.Path + ": " + fe.Msg
		}
	}
	return out
}

func refAt[T any](s []T, i int, ref func(T) Ref) Ref {
	if i < 0 || i >= len(s) {
		return Ref{}
	}
	return ref(s[i])
}
