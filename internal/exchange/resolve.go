package exchange

import (
	"errors"
	"fmt"

	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/provider"
	"github.com/brokerhq/broker/internal/runs"
)

// Resolution errors.
var (
	// ErrUnknownProvider: the provider name is not aws, gcp, azure or vault.
	ErrUnknownProvider = errors.New("unknown provider")
	// ErrNotAttached: the stack has no integration of that provider for the scope (404).
	ErrNotAttached = errors.New("no integration attached")
	// ErrUnknownIntegration: the named integration does not exist (404).
	ErrUnknownIntegration = errors.New("no such integration")
	// ErrWrongProvider: the named integration belongs to another provider (400).
	ErrWrongProvider = errors.New("integration is of another provider")
	// ErrNotAttachedForScope: the named integration is not attached to the stack for the run's
	// current scope (403).
	ErrNotAttachedForScope = errors.New("integration not attached for this scope")
)

// Providers lists the provider names.
var Providers = provider.Names()

// Attachments resolves which integration serves a run, from the attachments in force. It is
// built once per catalog; validation already guarantees at most one read and one write
// integration per stack and provider, each usable from the stack's space.
type Attachments struct {
	integrations map[string]*config.Integration
	// slots maps a stack's slot for a provider and scope to the attached integration's id.
	slots map[slot]string
}

// slot is one stack's read or write place for one provider.
type slot struct {
	stack, provider string
	scope           runs.Scope
}

// NewAttachments indexes the integrations and the attachments in force (direct and automatic).
func NewAttachments(integrations []config.Integration, attached []config.EffectiveAttachment) *Attachments {
	a := &Attachments{
		integrations: make(map[string]*config.Integration, len(integrations)),
		slots:        make(map[slot]string, len(attached)),
	}
	for i := range integrations {
		a.integrations[integrations[i].ID] = &integrations[i]
	}
	for _, at := range attached {
		in, ok := a.integrations[at.Integration]
		if !ok {
			continue
		}
		if at.Read {
			a.slots[slot{at.Stack, in.Provider(), runs.Read}] = in.ID
		}
		if at.Write {
			a.slots[slot{at.Stack, in.Provider(), runs.Write}] = in.ID
		}
	}
	return a
}

// Attached reports whether integration is attached to stack, for either scope.
func (a *Attachments) Attached(stack, integration string) bool {
	in, ok := a.integrations[integration]
	if !ok {
		return false
	}
	return a.slots[slot{stack, in.Provider(), runs.Read}] == integration ||
		a.slots[slot{stack, in.Provider(), runs.Write}] == integration
}

// UnknownIntegration is the error for an integration that does not exist (ErrUnknownIntegration).
func UnknownIntegration(id string) error { return fmt.Errorf("%w %q", ErrUnknownIntegration, id) }

// NewAttachmentsOf indexes a configuration's integrations and the attachments in force.
func NewAttachmentsOf(cfg *config.Config) *Attachments {
	return NewAttachments(cfg.Integrations, cfg.EffectiveAttachments())
}

// StackScope is a stack at one scope: the read or write side of a stack, which an integration is
// attached to and an ExternalId names.
type StackScope struct {
	// Stack is the stack's id.
	Stack string
	// Scope is runs.Read or runs.Write.
	Scope runs.Scope
}

// Resolve picks the integration of provider for run at its current scope. integration, when not
// empty, names the one the caller wants; it must be the one attached for that scope. The scope
// is runs.Run.EffectiveScope: a run record whose stored scope disagrees with its type and phase
// resolves to nothing, with an error wrapping runs.ErrCorrupt.
func (a *Attachments) Resolve(run runs.Run, provider, integration string) (config.Integration, error) {
	scope, err := run.EffectiveScope()
	if err != nil {
		return config.Integration{}, err
	}
	return a.ResolveScope(StackScope{Stack: run.Stack, Scope: scope}, provider, integration)
}

// ResolveScope is Resolve for a stack at a given scope (at) rather than for a run: what the
// trust tooling renders policies for. Serving a run goes through Resolve. name is the provider;
// integration, when not empty, names the one the caller wants, which must be the one attached
// to at.Stack for at.Scope.
func (a *Attachments) ResolveScope(at StackScope, name, integration string) (config.Integration, error) {
	stack, scope := at.Stack, at.Scope
	if !provider.Known(name) {
		return config.Integration{}, fmt.Errorf("%w %q: want %s", ErrUnknownProvider, name, provider.NameList())
	}
	attached := a.slots[slot{stack, name, scope}]
	if integration == "" {
		if attached == "" {
			return config.Integration{}, fmt.Errorf("%w: stack %s has no %s integration attached for scope %s", ErrNotAttached, stack, name, scope)
		}
		return *a.integrations[attached], nil
	}
	ip, ok := a.integrations[integration]
	var in config.Integration
	if ok {
		in = *ip
	}
	switch {
	case !ok:
		return config.Integration{}, UnknownIntegration(integration)
	case in.Provider() != name:
		return config.Integration{}, fmt.Errorf("%w: %s is a %s integration, not %s", ErrWrongProvider, integration, in.Provider(), name)
	case attached != integration:
		return config.Integration{}, fmt.Errorf("%w: %s is not attached to stack %s for scope %s", ErrNotAttachedForScope, integration, stack, scope)
	}
	return in, nil
}
