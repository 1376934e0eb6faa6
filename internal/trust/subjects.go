package trust

import (
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/brokerhq/broker/internal/claims"
	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/exchange"
	"github.com/brokerhq/broker/internal/runs"
)

// Request names what to trust.
type Request struct {
	Provider    string
	Stack       string
	Scope       runs.Scope
	Integration string // empty: the one attached to the stack for the scope
	// AWSPrincipal is the broker's own AWS principal, for assume-role integrations.
	AWSPrincipal string
}

// target is a resolved request.
type target struct {
	cfg         *config.Config
	req         Request
	stack       config.Stack
	integration config.Integration
	// subjects are every `sub` a run of the stack can carry at the scope; a "*" stands for the run id.
	subjects []string
}

// resolver resolves requests against one configuration, with its indexes built once.
type resolver struct {
	cfg       *config.Config
	atts      *exchange.Attachments
	spaces    *claims.Spaces
	templates []string
	// leftOut holds each attachment that shares the cloud-side object of what is printed but
	// is left out of it (see sharing), with the note that says why.
	leftOut []leftOutPair
}

// leftOutPair is an attachment (stack, scope, integration) a printed document leaves out, and
// the note that says so.
type leftOutPair struct {
	pair Request
	note string
}

// leftOutNotes returns the notes of what r left out.
func (r *resolver) leftOutNotes() []string {
	var notes []string
	for _, l := range r.leftOut {
		notes = append(notes, l.note)
	}
	return notes
}

// isLeftOut reports whether r left pair out.
func (r *resolver) isLeftOut(pair Request) bool {
	return slices.ContainsFunc(r.leftOut, func(l leftOutPair) bool { return l.pair == pair })
}

func newResolver(cfg *config.Config) (*resolver, error) {
	spaces, err := claims.NewSpaces(cfg)
	if err != nil {
		return nil, err
	}
	return &resolver{cfg: cfg, atts: exchange.NewAttachmentsOf(cfg), spaces: spaces, templates: templatesOf(cfg)}, nil
}

func resolve(cfg *config.Config, req Request) (*target, error) {
	r, err := newResolver(cfg)
	if err != nil {
		return nil, err
	}
	return r.resolve(req)
}

func (r *resolver) resolve(req Request) (*target, error) {
	stack, ok := r.cfg.Stack(req.Stack)
	if !ok {
		return nil, fmt.Errorf("no stack %q in the configuration", req.Stack)
	}
	if req.Scope != runs.Read && req.Scope != runs.Write {
		return nil, fmt.Errorf("scope must be read or write, not %q", req.Scope)
	}
	at := exchange.StackScope{Stack: req.Stack, Scope: req.Scope}
	in, err := r.atts.ResolveScope(at, req.Provider, req.Integration)
	if err != nil {
		return nil, err
	}
	subjects, err := r.subjectsFor(stack, req.Scope)
	if err != nil {
		return nil, err
	}
	return &target{cfg: r.cfg, req: req, stack: stack, integration: in, subjects: subjects}, nil
}

// subjectsFor renders the space's template for every run type and phase that carries scope.
// The run id, unknowable in advance, renders as "*". It refuses subjects that could match a sub
// of another stack or scope (checkExclusive).
func (r *resolver) subjectsFor(stack config.Stack, scope runs.Scope) ([]string, error) {
	var out []string
	for _, t := range runs.Types() {
		phases, _ := runs.Phases(t)
		for _, p := range phases {
			if p == runs.Finished || runs.ScopeOf(t, p) != scope {
				continue
			}
			sub, ok := r.spaces.Subject(claims.Subject{
				SpaceID: stack.Space, CallerType: claims.CallerTypeStack, CallerID: stack.ID,
				Run: runs.Run{ID: "*", RunType: t, Phase: p, Scope: scope},
			})
			if !ok {
				return nil, fmt.Errorf("space %q of stack %s is not configured", stack.Space, stack.ID)
			}
			if !slices.Contains(out, sub) {
				out = append(out, sub)
			}
		}
	}
	if err := checkExclusive(out, r.templates, config.SubjectOwner{CallerID: stack.ID, Scope: string(scope)}); err != nil {
		return nil, err
	}
	return out, nil
}

// wildcard reports whether any subject holds the run id wildcard.
func (t *target) wildcard() bool {
	return slices.ContainsFunc(t.subjects, func(s string) bool { return strings.Contains(s, "*") })
}

// issuerHostPath is the issuer without scheme, as IAM names OIDC providers and condition keys.
func (t *target) issuerHostPath() string { return issuerHostPath(t.cfg.Issuer) }

// issuerHostPath is issuer without scheme, as IAM names OIDC providers and condition keys.
func issuerHostPath(issuer string) string {
	u, err := url.Parse(issuer)
	if err != nil {
		return issuer
	}
	return u.Host + strings.TrimSuffix(u.Path, "/")
}

// Subjects returns every `sub` a run of stack can carry at scope, from its space's template; a
// "*" stands for the run id.
func Subjects(cfg *config.Config, stack string, scope runs.Scope) ([]string, error) {
	s, ok := cfg.Stack(stack)
	if !ok {
		return nil, fmt.Errorf("no stack %q in the configuration", stack)
	}
	r, err := newResolver(cfg)
	if err != nil {
		return nil, err
	}
	return r.subjectsFor(s, scope)
}
