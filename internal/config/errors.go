package config

import (
	"sort"
	"strconv"
	"strings"
)

// FieldError is one problem found in a configuration.
type FieldError struct {
	// Source names the configuration (a file path, or "embedded default"); may be empty.
	Source string
	// Line is the 1-based line the problem was found on, 0 when unknown.
	Line int
	// Path is the key path, e.g. "spaces[2].parent"; empty for a problem with the whole file.
	Path string
	// Value is the offending value as written, when there is one.
	Value string
	// Msg describes the problem; it quotes Value where that helps.
	Msg string
	// Missing is set when the problem is a reference to an object that does not exist (the API
	// answers it with 404 rather than 400).
	Missing bool
	// Conflict is set when the object is valid alone but clashes with another one (two read or
	// two write attachments of one provider on a stack); the API answers it with 409.
	Conflict bool
}

// Error formats the problem as "source:line: path: msg", leaving out what is unknown.
func (e *FieldError) Error() string {
	var b strings.Builder
	if e.Source != "" {
		b.WriteString(e.Source)
		if e.Line > 0 {
			b.WriteString(":")
			b.WriteString(strconv.Itoa(e.Line))
		}
		b.WriteString(": ")
	} else if e.Line > 0 {
		b.WriteString("line ")
		b.WriteString(strconv.Itoa(e.Line))
		b.WriteString(": ")
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is every problem found in a configuration. Load, Parse and Validate return it (as
// error) when there is at least one problem.
type Errors []*FieldError

// Error lists the problems, one per line.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap exposes each problem to errors.Is and errors.As.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// orNil returns es as an error, or nil when it is empty.
func (es Errors) orNil() error {
	if len(es) == 0 {
		return nil
	}
	return es
}

// sortByLine orders problems by line, keeping those of unknown line last and the original
// order among equals.
func (es Errors) sortByLine() {
	sort.SliceStable(es, func(i, j int) bool {
		li, lj := es[i].Line, es[j].Line
		if li == 0 || lj == 0 {
			return li != 0 && lj == 0
		}
		return li < lj
	})
}

// lineFor returns the line recorded for path or, failing that, for its nearest recorded
// ancestor ("spaces[2].parent" → "spaces[2]" → "spaces"); 0 when none is known.
func (c *Config) lineFor(path string) int {
	for path != "" {
		if l, ok := c.lines[path]; ok {
			return l
		}
		path = parentPath(path)
	}
	return 0
}

// parentPath drops the last segment of a key path: "a.b[1]" → "a.b", "a.b" → "a".
func parentPath(path string) string {
	if strings.HasSuffix(path, "]") {
		if i := strings.LastIndexByte(path, '['); i >= 0 {
			return path[:i]
		}
	}
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		return path[:i]
	}
	return ""
}

// joinKey appends a mapping key to a path.
func joinKey(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// joinIndex appends a list index to a path.
func joinIndex(path string, i int) string {
	return path + "[" + strconv.Itoa(i) + "]"
}
