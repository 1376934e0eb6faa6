package catalog

import (
	"fmt"
	"time"

	"github.com/brokerhq/broker/internal/config"
)

// Kind names a kind of catalog object, as audit actions and store records spell it.
type Kind string

// Kinds of objects.
const (
	KindSpace       Kind = "space"
	KindStack       Kind = "stack"
	KindIntegration Kind = "integration"
	KindAttachment  Kind = "attachment"
	KindRole        Kind = "role"
	KindAPIKey      Kind = "api_key"
)

// Kinds lists every kind in dependency order: an object refers only to kinds before it.
var Kinds = []Kind{KindRole, KindSpace, KindStack, KindIntegration, KindAttachment, KindAPIKey}

// Owners of objects.
const (
	// ManagedByConfig marks an object declared in the configuration file: read-only through the API.
	ManagedByConfig = "config"
	// ManagedByAPI marks an object created through the API and kept in the store.
	ManagedByAPI = "api"
)

// Ref names one object. An attachment's id is "<stack>/<integration>".
type Ref struct {
	Kind Kind
	ID   string
}

// String renders the reference as "kind id".
func (r Ref) String() string { return string(r.Kind) + " " + r.ID }

// AttachmentID is the id of the attachment of integration to stack.
func AttachmentID(stack, integration string) string { return stack + "/" + integration }

// Meta is who owns an object and how often it changed.
type Meta struct {
	// ManagedBy is ManagedByConfig or ManagedByAPI.
	ManagedBy string
	// Version grows by one with each change of the object; a file object has version 1.
	Version int64
	// Created is when the object was created. A stack's runs belong to it in its place: a
	// stack moved to another space through the API counts as created SettleTime after the move,
	// and a file stack that enters the file (or moves in it) on a reload when it did. An object
	// whose id was deleted through the API, created again through the API or in the file, counts
	// as created SettleTime after that deletion, on every replica and after restarts; other file
	// objects in force since start-up have zero.
	Created time.Time
}

// Objects is a set of catalog objects in the configuration file's shapes.
type Objects struct {
	Spaces       []config.Space
	Stacks       []config.Stack
	Integrations []config.Integration
	Attachments  []config.Attachment
	Roles        []config.Role
	APIKeys      []config.APIKey
}

// FileObjects returns the catalog objects of a configuration.
func FileObjects(cfg *config.Config) Objects {
	return Objects{
		Spaces: cfg.Spaces, Stacks: cfg.Stacks, Integrations: cfg.Integrations,
		Attachments: cfg.Attachments, Roles: cfg.Roles, APIKeys: cfg.APIKeys,
	}
}

// Len is the number of objects.
func (o Objects) Len() int {
	return len(o.Spaces) + len(o.Stacks) + len(o.Integrations) + len(o.Attachments) + len(o.Roles) + len(o.APIKeys)
}

// each calls fn with the reference of every object, in field order.
func (o Objects) each(fn func(Ref)) {
	for _, s := range o.Spaces {
		fn(Ref{KindSpace, s.ID})
	}
	for _, s := range o.Stacks {
		fn(Ref{KindStack, s.ID})
	}
	for _, in := range o.Integrations {
		fn(Ref{KindIntegration, in.ID})
	}
	for _, a := range o.Attachments {
		fn(Ref{KindAttachment, AttachmentID(a.Stack, a.Integration)})
	}
	for _, r := range o.Roles {
		fn(Ref{KindRole, r.ID})
	}
	for _, k := range o.APIKeys {
		fn(Ref{KindAPIKey, k.ID})
	}
}

// Versioned is the objects created through the API with the version of each.
type Versioned struct {
	Objects
	// Versions maps every object's reference to its version.
	Versions map[Ref]int64
	// Created maps an object's reference to its creation time (Unix milliseconds), when known.
	Created map[Ref]int64
	// Deleted maps the reference of an object deleted through the API (a tombstone) to when it
	// was deleted (Unix milliseconds), when known.
	Deleted map[Ref]int64
	// From maps the reference of a deleted stack or space to the place it left (the stack's
	// space, the space's parent), when its tombstone knows, and the reference of a subject
	// template's record to the template and the path it was recorded at (see heldTemplate).
	From map[Ref]string
	// seen is the store's record of the configuration file as a replica last started or
	// reloaded on it (nil when none did since the record was introduced), at seenVersion,
	// written at seenAt (Unix milliseconds; 0 when the record does not say).
	seen                *fileSeen
	seenVersion, seenAt int64
}

// merged is the file's objects followed by the API's, as one configuration to validate, under
// issuer.
func merged(file, api Objects, issuer string) *config.Config {
	return &config.Config{
		Issuer:       issuer,
		Spaces:       concat(file.Spaces, api.Spaces),
		Stacks:       concat(file.Stacks, api.Stacks),
		Integrations: concat(file.Integrations, api.Integrations),
		Attachments:  concat(file.Attachments, api.Attachments),
		Roles:        concat(file.Roles, api.Roles),
		APIKeys:      concat(file.APIKeys, api.APIKeys),
	}
}

func concat[T any](a, b []T) []T {
	out := make([]T, 0, len(a)+len(b))
	return append(append(out, a...), b...)
}

// CollisionError reports an object declared both in the file and through the API.
type CollisionError struct {
	Refs []Ref
}

// Error names every colliding object.
func (e *CollisionError) Error() string {
	msg := "declared both in the configuration file and through the API:"
	for _, r := range e.Refs {
		msg += fmt.Sprintf(" %s %q;", r.Kind, r.ID)
	}
	return msg[:len(msg)-1] + " (remove one of them)"
}
