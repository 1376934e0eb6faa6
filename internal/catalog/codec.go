package catalog

import (
	"fmt"
	"slices"

	"github.com/brokerhq/broker/internal/config"
)

// kindNoun is how messages name each kind.
var kindNoun = map[Kind]string{
	KindSpace: "space", KindStack: "stack", KindIntegration: "integration",
	KindAttachment: "attachment", KindRole: "role", KindAPIKey: "API key",
}

// listName is the file's name of each kind's list, as validation paths spell it.
var listName = map[Kind]string{
	KindSpace: "spaces", KindStack: "stacks", KindIntegration: "integrations",
	KindAttachment: "attachments", KindRole: "roles", KindAPIKey: "api_keys",
}

// RefOf names a catalog object (a config.Space, config.Stack, ...).
func RefOf(obj any) (Ref, error) {
	switch o := obj.(type) {
	case config.Space:
		return Ref{KindSpace, o.ID}, nil
	case config.Stack:
		return Ref{KindStack, o.ID}, nil
	case config.Integration:
		return Ref{KindIntegration, o.ID}, nil
	case config.Attachment:
		return Ref{KindAttachment, AttachmentID(o.Stack, o.Integration)}, nil
	case config.Role:
		return Ref{KindRole, o.ID}, nil
	case config.APIKey:
		return Ref{KindAPIKey, o.ID}, nil
	}
	return Ref{}, fmt.Errorf("catalog: %T is not a catalog object", obj)
}

// decoded is a record's body with the object decoded from it.
type decoded struct {
	body string
	obj  any
}

// decodeRecords turns stored records into objects with their versions. cache holds the
// objects of the previous load by reference; a record whose body is unchanged is not decoded
// again. It returns the cache for the next load.
func decodeRecords(snap Snapshot, cache map[Ref]decoded) (Versioned, map[Ref]decoded, error) {
	v := Versioned{Versions: make(map[Ref]int64, len(snap.Records)), Created: make(map[Ref]int64, len(snap.Records)), Deleted: map[Ref]int64{}}
	next := make(map[Ref]decoded, len(snap.Records))
	for _, r := range snap.Records {
		if r.Ref == seenRef {
			d, ok := cache[r.Ref]
			if !ok || d.body != string(r.Body) {
				seen, err := decodeSeen(r.Body)
				if err != nil {
					return Versioned{}, nil, err
				}
				d = decoded{body: string(r.Body), obj: seen}
			}
			next[r.Ref] = d
			seen := d.obj.(fileSeen)
			v.seen, v.seenVersion, v.seenAt = &seen, r.Version, r.Created
			continue
		}
		if _, tombstone := readTombstone(r.Body); tombstone {
			// its version, when the object was deleted, and where from
			v.noteTombstone(r.Ref, r.Version, r.Created, r.Body)
			continue
		}
		if d, ok := cache[r.Ref]; ok && d.body == string(r.Body) {
			next[r.Ref] = d
			v.Objects = v.Objects.appended(d.obj)
			v.Versions[r.Ref], v.Created[r.Ref] = r.Version, r.Created
			continue
		}
		obj, err := decodeObject(r.Ref.Kind, r.Body)
		if err != nil {
			return Versioned{}, nil, fmt.Errorf("catalog: stored %s: %w", r.Ref, err)
		}
		if ref, _ := RefOf(obj); ref != r.Ref {
			return Versioned{}, nil, fmt.Errorf("catalog: stored %s holds %s", r.Ref, ref)
		}
		next[r.Ref] = decoded{body: string(r.Body), obj: obj}
		v.Objects = v.Objects.appended(obj)
		v.Versions[r.Ref], v.Created[r.Ref] = r.Version, r.Created
	}
	return v, next, nil
}

// decodeObject decodes the body of a stored object of kind.
func decodeObject(kind Kind, body []byte) (any, error) {
	switch kind {
	case KindSpace:
		return decodeAs[config.Space](body)
	case KindStack:
		return decodeAs[config.Stack](body)
	case KindIntegration:
		return decodeAs[config.Integration](body)
	case KindAttachment:
		return decodeAs[config.Attachment](body)
	case KindRole:
		return decodeAs[config.Role](body)
	case KindAPIKey:
		return decodeAs[config.APIKey](body)
	}
	return nil, fmt.Errorf("unknown kind %q", kind)
}

func decodeAs[T any](body []byte) (T, error) {
	var out T
	err := config.DecodeJSON(body, &out)
	return out, err
}

// appended returns o with obj appended to its kind's list (the caller knows it is new).
func (o Objects) appended(obj any) Objects {
	switch x := obj.(type) {
	case config.Space:
		o.Spaces = append(o.Spaces, x)
	case config.Stack:
		o.Stacks = append(o.Stacks, x)
	case config.Integration:
		o.Integrations = append(o.Integrations, x)
	case config.Attachment:
		o.Attachments = append(o.Attachments, x)
	case config.Role:
		o.Roles = append(o.Roles, x)
	case config.APIKey:
		o.APIKeys = append(o.APIKeys, x)
	}
	return o
}

// With returns o with obj added, or replacing the object of the same kind and id (an
// attachment's id is its stack and integration). The slices of o are not modified; an obj of
// no catalog kind leaves o as it is.
func (o Objects) With(obj any) Objects {
	switch x := obj.(type) {
	case config.Space:
		o.Spaces = upsert(o.Spaces, x, func(s config.Space) bool { return s.ID == x.ID })
	case config.Stack:
		o.Stacks = upsert(o.Stacks, x, func(s config.Stack) bool { return s.ID == x.ID })
	case config.Integration:
		o.Integrations = upsert(o.Integrations, x, func(s config.Integration) bool { return s.ID == x.ID })
	case config.Attachment:
		o.Attachments = upsert(o.Attachments, x, func(a config.Attachment) bool {
			return a.Stack == x.Stack && a.Integration == x.Integration
		})
	case config.Role:
		o.Roles = upsert(o.Roles, x, func(r config.Role) bool { return r.ID == x.ID })
	case config.APIKey:
		o.APIKeys = upsert(o.APIKeys, x, func(k config.APIKey) bool { return k.ID == x.ID })
	}
	return o
}

// without returns o less the object ref names. The slices of o are not modified.
func (o Objects) without(ref Ref) Objects {
	switch ref.Kind {
	case KindSpace:
		o.Spaces = remove(o.Spaces, func(s config.Space) bool { return s.ID == ref.ID })
	case KindStack:
		o.Stacks = remove(o.Stacks, func(s config.Stack) bool { return s.ID == ref.ID })
	case KindIntegration:
		o.Integrations = remove(o.Integrations, func(s config.Integration) bool { return s.ID == ref.ID })
	case KindAttachment:
		o.Attachments = remove(o.Attachments, func(a config.Attachment) bool { return AttachmentID(a.Stack, a.Integration) == ref.ID })
	case KindRole:
		o.Roles = remove(o.Roles, func(r config.Role) bool { return r.ID == ref.ID })
	case KindAPIKey:
		o.APIKeys = remove(o.APIKeys, func(k config.APIKey) bool { return k.ID == ref.ID })
	}
	return o
}

// index returns the position of ref among o's objects of its kind, or -1.
func (o Objects) index(ref Ref) int {
	i := -1
	n := 0
	o.each(func(r Ref) {
		if r.Kind == ref.Kind {
			if r == ref && i < 0 {
				i = n
			}
			n++
		}
	})
	return i
}

// count returns how many objects of kind o holds.
func (o Objects) count(kind Kind) int {
	n := 0
	o.each(func(r Ref) {
		if r.Kind == kind {
			n++
		}
	})
	return n
}

// find returns the object ref names, or nil.
func (o Objects) find(ref Ref) any {
	var out any
	switch ref.Kind {
	case KindSpace:
		out = findIn(o.Spaces, func(s config.Space) bool { return s.ID == ref.ID })
	case KindStack:
		out = findIn(o.Stacks, func(s config.Stack) bool { return s.ID == ref.ID })
	case KindIntegration:
		out = findIn(o.Integrations, func(s config.Integration) bool { return s.ID == ref.ID })
	case KindAttachment:
		out = findIn(o.Attachments, func(a config.Attachment) bool { return AttachmentID(a.Stack, a.Integration) == ref.ID })
	case KindRole:
		out = findIn(o.Roles, func(r config.Role) bool { return r.ID == ref.ID })
	case KindAPIKey:
		out = findIn(o.APIKeys, func(k config.APIKey) bool { return k.ID == ref.ID })
	}
	return out
}

func findIn[T any](s []T, match func(T) bool) any {
	if i := slices.IndexFunc(s, match); i >= 0 {
		return s[i]
	}
	return nil
}

func upsert[T any](s []T, x T, match func(T) bool) []T {
	out := slices.Clone(s)
	if i := slices.IndexFunc(out, match); i >= 0 {
		out[i] = x
		return out
	}
	return append(out, x)
}

func remove[T any](s []T, match func(T) bool) []T {
	return slices.DeleteFunc(slices.Clone(s), match)
}
