package main

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/brokerhq/broker/internal/config"
)

// adminKind is how the CLI names, reaches and shows one kind of object.
type adminKind struct {
	// name is the singular: what apply prints ("space/prod") and what delete takes.
	name string
	// plural is what get takes; the singular is accepted too.
	plural string
	// path is the collection's path; attachments live under their stack's.
	path string
	// list names the field of a listing's answer, one the field of a single object's answer.
	list, one string
	// listOnly: the API serves the kind only as a listing; one object is picked out of it.
	listOnly bool
	// header and row make the table of `broker get`.
	header []string
	row    func(raw json.RawMessage) ([]string, error)
}

// The kinds, in the order `broker get` lists them in its usage.
var (
	kindSpace = adminKind{name: "space", plural: "spaces", path: "/v1/spaces", list: "spaces", one: "space",
		header: []string{"ID", "PARENT", "INHERIT", "SUBJECT-TEMPLATE", "LABELS", "MANAGED-BY", "VERSION"},
		row: func(raw json.RawMessage) ([]string, error) {
			s, m, err := decodeServed[config.Space](raw)
			return []string{s.ID, dash(s.Parent), strconv.FormatBool(s.Inherit), dash(s.SubjectTemplate), joined(s.Labels), m.ManagedBy, versionCell(m)}, err
		}}
	kindStack = adminKind{name: "stack", plural: "stacks", path: "/v1/stacks", list: "stacks", one: "stack",
		header: []string{"ID", "SPACE", "LABELS", "MANAGED-BY", "VERSION"},
		row: func(raw json.RawMessage) ([]string, error) {
			s, m, err := decodeServed[config.Stack](raw)
			return []string{s.ID, s.Space, joined(s.Labels), m.ManagedBy, versionCell(m)}, err
		}}
	kindIntegration = adminKind{name: "integration", plural: "integrations", path: "/v1/integrations", list: "integrations", one: "integration",
		header: []string{"ID", "SPACE", "PROVIDER", "AUTOATTACH", "MANAGED-BY", "VERSION"},
		row: func(raw json.RawMessage) ([]string, error) {
			in, m, err := decodeServed[config.Integration](raw)
			rules := make([]string, len(in.Autoattach))
			for i, r := range in.Autoattach {
				rules[i] = r.Label + ":" + ruleScopes(r)
			}
			return []string{in.ID, in.Space, in.Provider(), joined(rules), m.ManagedBy, versionCell(m)}, err
		}}
	kindAttachment = adminKind{name: "attachment", plural: "attachments", list: "attachments", one: "attachment",
		header: []string{"STACK", "INTEGRATION", "PROVIDER", "READ", "WRITE", "SOURCE", "MANAGED-BY", "VERSION"},
		row: func(raw json.RawMessage) ([]string, error) {
			a, m, err := decodeServed[servedAttachment](raw)
			return []string{a.Stack, a.Integration, a.Provider, strconv.FormatBool(a.Read), strconv.FormatBool(a.Write),
				a.Source, dash(m.ManagedBy), versionCell(m)}, err
		}}
	kindRole = adminKind{name: "role", plural: "roles", path: "/v1/roles", list: "roles", one: "role",
		header: []string{"ID", "ACTIONS", "MANAGED-BY", "VERSION"},
		row: func(raw json.RawMessage) ([]string, error) {
			r, m, err := decodeServed[config.Role](raw)
			return []string{r.ID, joined(r.Actions), m.ManagedBy, versionCell(m)}, err
		}}
	kindAPIKey = adminKind{name: "api-key", plural: "api-keys", path: "/v1/api-keys", list: "apiKeys", one: "apiKey", listOnly: true,
		header: []string{"ID", "BINDINGS", "MANAGED-BY", "VERSION"},
		row: func(raw json.RawMessage) ([]string, error) {
			k, m, err := decodeServed[servedAPIKey](raw)
			return []string{k.ID, bindings(k.Bindings), m.ManagedBy, versionCell(m)}, err
		}}
)

// adminKinds lists every kind the CLI administers.
var adminKinds = []adminKind{kindSpace, kindStack, kindIntegration, kindAttachment, kindRole, kindAPIKey}

// kindNamed finds the kind a command-line word names, singular or plural.
func kindNamed(word string) (adminKind, bool) {
	for _, k := range adminKinds {
		if word == k.name || word == k.plural {
			return k, true
		}
	}
	return adminKind{}, false
}

// kindWords lists the plurals, for usage messages.
func kindWords() string {
	words := make([]string, len(adminKinds))
	for i, k := range adminKinds {
		words[i] = k.plural
	}
	return strings.Join(words, "|")
}

// servedAttachment is an attachment as GET /v1/stacks/{id}/attachments lists it.
type servedAttachment struct {
	Stack       string `yaml:"stack"`
	Integration string `yaml:"integration"`
	Provider    string `yaml:"provider"`
	Read        bool   `yaml:"read"`
	Write       bool   `yaml:"write"`
	Source      string `yaml:"source"`
}

// servedAPIKey is an API key as the API lists it: never a secret nor its hash.
type servedAPIKey struct {
	ID       string           `yaml:"id"`
	Bindings []config.Binding `yaml:"bindings"`
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func joined(s []string) string { return dash(strings.Join(s, ",")) }

func versionCell(m meta) string {
	if m.Version == 0 {
		return "-"
	}
	return strconv.FormatInt(m.Version, 10)
}

// ruleScopes names the scopes an autoattach rule attaches: "read", "write", "read+write" or
// "none".
func ruleScopes(r config.Autoattach) string {
	switch {
	case r.Read && r.Write:
		return "read+write"
	case r.Read:
		return "read"
	case r.Write:
		return "write"
	}
	return "none"
}

// bindings renders bindings as ROLE@SPACE, the form `broker api-keys create --bind` takes.
func bindings(bs []config.Binding) string {
	out := make([]string, len(bs))
	for i, b := range bs {
		out[i] = fmt.Sprintf("%s@%s", b.Role, b.Space)
	}
	return joined(out)
}
