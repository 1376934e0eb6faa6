package claims

import (
	"fmt"
	"strings"

	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/runs"
)

// DefaultSubjectTemplate is the `sub` format of a space that sets none.
const DefaultSubjectTemplate = config.DefaultSubjectTemplate

// Subject is what a `sub` template may name.
type Subject struct {
	SpaceID    string
	SpacePath  []string // space ids from root down to SpaceID
	CallerType string
	CallerID   string
	Run        runs.Run
}

// placeholders maps a template placeholder to its value.
var placeholders = map[string]func(Subject) string{
	"spaceId":    func(s Subject) string { return s.SpaceID },
	"spacePath":  func(s Subject) string { return strings.Join(s.SpacePath, "/") },
	"callerType": func(s Subject) string { return s.CallerType },
	"callerId":   func(s Subject) string { return s.CallerID },
	"runId":      func(s Subject) string { return s.Run.ID },
	"runType":    func(s Subject) string { return string(s.Run.RunType) },
	"runPhase":   func(s Subject) string { return string(s.Run.Phase) },
	"scope":      func(s Subject) string { return string(s.Run.Scope) },
}

// Template is a parsed `sub` template: literal text and placeholders.
type Template struct {
	parts []part
}

type part struct {
	literal string
	value   func(Subject) string // nil for a literal
}

// ParseTemplate parses a template such as "space:{spaceId}:stack:{callerId}:scope:{scope}" with
// the grammar of config.SplitSubjectTemplate. An empty template is the default one. A template
// breaking that grammar (an unknown placeholder, an unbalanced brace, a missing {callerId} or
// {scope}, placeholders without a separator, a wildcard in literal text) is an error.
func ParseTemplate(s string) (Template, error) {
	s = config.EffectiveSubjectTemplate(s)
	split, problems := config.SplitSubjectTemplate(s)
	if len(problems) > 0 {
		return Template{}, fmt.Errorf("subject template %q: %s", s, strings.Join(problems, "; "))
	}
	var t Template
	for _, p := range split {
		if p.Placeholder == "" {
			t.parts = append(t.parts, part{literal: p.Literal})
			continue
		}
		value, ok := placeholders[p.Placeholder]
		if !ok { // config accepts it but it has no value here: keep the two lists equal
			return Template{}, fmt.Errorf("subject template %q: placeholder {%s} has no value", s, p.Placeholder)
		}
		t.parts = append(t.parts, part{value: value})
	}
	return t, nil
}

// Render returns the `sub` for s.
func (t Template) Render(s Subject) string {
	// The parts are gathered first, to size the string once.
	var buf [16]string
	vals := buf[:0]
	n := 0
	for _, p := range t.parts {
		v := p.literal
		if p.value != nil {
			v = p.value(s)
		}
		vals = append(vals, v)
		n += len(v)
	}
	var b strings.Builder
	b.Grow(n)
	for _, v := range vals {
		b.WriteString(v)
	}
	return b.String()
}
