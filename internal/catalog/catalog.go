package catalog

import (
	"fmt"
	"slices"
	"time"

	"github.com/brokerhq/broker/internal/access"
	"github.com/brokerhq/broker/internal/claims"
	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/exchange"
	"github.com/brokerhq/broker/internal/runs"
)

// Input is what a Catalog is built from.
type Input struct {
	// File holds the configuration file's objects (managed by config, version 1).
	File Objects
	// API holds the objects created through the API, with their versions.
	API Versioned
	// Revision is the store's revision the API objects were read at.
	Revision int64
	// FileCreated maps a file object to when it took its place in this replica's file (Unix
	// milliseconds; see Meta.Created); objects in force since start-up are absent.
	FileCreated map[Ref]int64
	// Issuer is the issuer URL, which some rules on objects read ("" checks none of them; see
	// ManagerConfig.Issuer).
	Issuer string
}

// Catalog is one validated, immutable snapshot of every object, indexed for the lookups a
// request makes: O(1) by id, O(depth) up the space tree. Build it with Build; never modify it.
type Catalog struct {
	rev     int64
	objects *config.Config // the file's objects, then the API's
	meta    map[Ref]Meta

	spaces map[string]*config.Space
	paths  map[string][]string
	// placed maps a space to the latest Meta.Created of it and its ancestors: when it last
	// took its place in the tree.
	placed       map[string]time.Time
	children     map[string][]string
	stacks       map[string]*config.Stack
	integrations map[string]*config.Integration
	// azureAudiences holds the token audience of every Azure integration.
	azureAudiences map[string]bool
	// attached lists each stack's attachments in force, direct then automatic.
	attached map[string][]config.EffectiveAttachment
	roles    map[string]*config.Role
	apiKeys  map[string]*config.APIKey

	subjects    *claims.Spaces
	authz       *access.Authorizer
	attachments *exchange.Attachments
}

// Build validates the merged objects and indexes them. A file object and an API object with
// the same kind and id are a *CollisionError; invalid objects are config.Errors, with the
// paths of the merged list (the file's objects first).
func Build(in Input) (*Catalog, error) {
	if err := collisions(in.File, in.API.Objects); err != nil {
		return nil, err
	}
	objs := merged(in.File, in.API.Objects, in.Issuer)
	objs.ApplyObjectDefaults()
	if err := objs.ValidateObjects(); err != nil {
		return nil, err
	}
	c := &Catalog{
		rev:          in.Revision,
		objects:      objs,
		meta:         make(map[Ref]Meta, objs.ObjectCount()),
		spaces:       make(map[string]*config.Space, len(objs.Spaces)),
		children:     make(map[string][]string, len(objs.Spaces)),
		stacks:       make(map[string]*config.Stack, len(objs.Stacks)),
		integrations: make(map[string]*config.Integration, len(objs.Integrations)),
		attached:     make(map[string][]config.EffectiveAttachment, len(objs.Stacks)),
		roles:        make(map[string]*config.Role, len(objs.Roles)),
		apiKeys:      make(map[string]*config.APIKey, len(objs.APIKeys)),
	}
	in.File.each(func(r Ref) {
		// The version the id's records in the store reached: its changes on reloads, and what
		// the API did with the id before (see fileChanges).
		m := Meta{ManagedBy: ManagedByConfig, Version: fileVersion(in.API, r)}
		// The file's object holds the id only after the API's object with it was deleted, and
		// only once every replica can have seen the deletion: SettleTime after it.
		ms := in.FileCreated[r]
		if d, ok := in.API.Deleted[r]; ok {
			ms = max(ms, d+SettleTime.Milliseconds())
		}
		// An API object the store holds under the id (another replica's file lacks it; this
		// file's object is in force here until the files agree) was created after whatever left
		// the id before: the runs that leave ended stay ended here too.
		if c, ok := in.API.Created[r]; ok {
			ms = max(ms, c)
		}
		if ms > 0 {
			m.Created = time.UnixMilli(ms).UTC()
		}
		c.meta[r] = m
	})
	in.API.each(func(r Ref) {
		m := Meta{ManagedBy: ManagedByAPI, Version: in.API.Versions[r]}
		if ms, ok := in.API.Created[r]; ok {
			m.Created = time.UnixMilli(ms).UTC()
		}
		c.meta[r] = m
	})

	for i := range objs.Spaces {
		s := &objs.Spaces[i]
		c.spaces[s.ID] = s
		if s.Parent != "" {
			c.children[s.Parent] = append(c.children[s.Parent], s.ID)
		}
	}
	c.paths = make(map[string][]string, len(objs.Spaces))
	c.placed = make(map[string]time.Time, len(objs.Spaces))
	for id := range c.spaces {
		c.pathOf(id)
		c.placedAt(id)
	}
	for i := range objs.Stacks {
		c.stacks[objs.Stacks[i].ID] = &objs.Stacks[i]
	}
	c.azureAudiences = map[string]bool{}
	for i := range objs.Integrations {
		in := &objs.Integrations[i]
		c.integrations[in.ID] = in
		if in.Azure != nil {
			c.azureAudiences[in.TokenAudience()] = true
		}
	}
	effective := objs.EffectiveAttachments()
	for _, a := range effective {
		c.attached[a.Stack] = append(c.attached[a.Stack], a)
	}
	for i := range objs.Roles {
		c.roles[objs.Roles[i].ID] = &objs.Roles[i]
	}
	for i := range objs.APIKeys {
		c.apiKeys[objs.APIKeys[i].ID] = &objs.APIKeys[i]
	}

	var err error
	if c.subjects, err = claims.SpacesFrom(objs.Spaces, c.paths); err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}
	c.authz = access.Build(access.Input{Roles: objs.Roles, APIKeys: objs.APIKeys, Paths: c.paths})
	c.attachments = exchange.NewAttachments(objs.Integrations, effective)
	return c, nil
}

// pathOf computes (once) the path from root to space id; validation guarantees a tree.
func (c *Catalog) pathOf(id string) []string {
	if p, ok := c.paths[id]; ok {
		return p
	}
	s := c.spaces[id]
	var p []string
	if s.Parent == "" {
		p = []string{id}
	} else {
		parent := c.pathOf(s.Parent)
		p = make([]string, len(parent)+1)
		copy(p, parent)
		p[len(parent)] = id
	}
	c.paths[id] = p
	return p
}

// placedAt computes (once) when space id last took its place in the tree: the latest Created
// of it and its ancestors, so a space moved (or an ancestor moved) counts as placed then.
func (c *Catalog) placedAt(id string) time.Time {
	if t, ok := c.placed[id]; ok {
		return t
	}
	t := c.meta[Ref{Kind: KindSpace, ID: id}].Created
	if s := c.spaces[id]; s.Parent != "" {
		if p := c.placedAt(s.Parent); p.After(t) {
			t = p
		}
	}
	c.placed[id] = t
	return t
}

// collisions reports every object both sources declare.
func collisions(file, api Objects) error {
	if api.Len() == 0 {
		return nil
	}
	seen := make(map[Ref]bool, file.Len())
	file.each(func(r Ref) { seen[r] = true })
	var both []Ref
	api.each(func(r Ref) {
		if seen[r] {
			both = append(both, r)
		}
	})
	if len(both) > 0 {
		return &CollisionError{Refs: both}
	}
	return nil
}

// Revision is the store revision the catalog was built from.
func (c *Catalog) Revision() int64 { return c.rev }

// Meta returns who owns the object and its version, and false when there is no such object.
func (c *Catalog) Meta(r Ref) (Meta, bool) {
	m, ok := c.meta[r]
	return m, ok
}

// Space returns the space with id.
func (c *Catalog) Space(id string) (config.Space, bool) {
	s, ok := c.spaces[id]
	if !ok {
		return config.Space{}, false
	}
	return *s, true
}

// SpacePath returns the space ids from root down to space, or nil for an unknown space. The
// slice is shared: do not modify it.
func (c *Catalog) SpacePath(space string) []string { return c.paths[space] }

// SpacePlaced returns when space last took its place in the tree: it, or one of its
// ancestors, was created or moved to another parent then (see Meta.Created). A run in the space
// started before then belongs to its old place. Zero for an unknown space or one in place since
// start-up.
func (c *Catalog) SpacePlaced(space string) time.Time { return c.placed[space] }

// Within reports whether space is ancestor or lies in its subtree.
func (c *Catalog) Within(space, ancestor string) bool {
	return slices.Contains(c.paths[space], ancestor)
}

// Children returns the ids of the spaces directly under space.
func (c *Catalog) Children(space string) []string { return c.children[space] }

// Stack returns the stack with id.
func (c *Catalog) Stack(id string) (config.Stack, bool) {
	s, ok := c.stacks[id]
	if !ok {
		return config.Stack{}, false
	}
	return *s, true
}

// StackSpace returns the space of stack id, and false for an unknown stack.
func (c *Catalog) StackSpace(id string) (string, bool) {
	s, ok := c.stacks[id]
	if !ok {
		return "", false
	}
	return s.Space, true
}

// Integration returns the integration with id.
func (c *Catalog) Integration(id string) (config.Integration, bool) {
	in, ok := c.integrations[id]
	if !ok {
		return config.Integration{}, false
	}
	return *in, true
}

// UsableSpaces returns the spaces whose integrations a stack in space may use, nearest first
// (see config.Config.UsableSpaces).
func (c *Catalog) UsableSpaces(space string) []string { return c.objects.UsableSpaces(space) }

// Attachments returns the attachments in force for stack, direct ones first.
func (c *Catalog) Attachments(stack string) []config.EffectiveAttachment {
	return c.attached[stack]
}

// Role returns the role with id.
func (c *Catalog) Role(id string) (config.Role, bool) {
	r, ok := c.roles[id]
	if !ok {
		return config.Role{}, false
	}
	return *r, true
}

// APIKey returns the API key with id.
func (c *Catalog) APIKey(id string) (config.APIKey, bool) {
	k, ok := c.apiKeys[id]
	if !ok {
		return config.APIKey{}, false
	}
	return *k, true
}

// Objects returns every object, the file's first. The slices are shared: do not modify them.
func (c *Catalog) Objects() Objects { return FileObjects(c.objects) }

// AlgorithmFor returns the one signing algorithm the relying party of a token for aud accepts,
// "" for any: a provider's default audience's (exchange.AlgorithmFor), or Entra ID's for the
// audience an Azure integration sets for itself, which a worker may ask a token for.
func (c *Catalog) AlgorithmFor(aud string) string {
	if alg := exchange.AlgorithmFor(aud); alg != "" {
		return alg
	}
	if c.azureAudiences[aud] {
		return exchange.AzureAlgorithm
	}
	return ""
}

// Subject renders the `sub` of a run (claims.Subject's SpacePath is filled in).
func (c *Catalog) Subject(s claims.Subject) (string, bool) { return c.subjects.Subject(s) }

// Access is the authorizer of this catalog's API keys and roles.
func (c *Catalog) Access() *access.Authorizer { return c.authz }

// Attached reports whether integration is attached to stack, for either scope.
func (c *Catalog) Attached(stack, integration string) bool {
	return c.attachments.Attached(stack, integration)
}

// Resolve picks the integration of provider serving run at its scope (see
// exchange.Attachments.Resolve). A run whose stack is gone resolves to nothing.
func (c *Catalog) Resolve(run runs.Run, provider, integration string) (config.Integration, error) {
	return c.attachments.Resolve(run, provider, integration)
}
