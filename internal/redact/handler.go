package redact

import (
	"context"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"strings"

	"github.com/brokerhq/broker/internal/logging"
)

// NewHandler returns a slog.Handler that writes through h every record with each secret in its
// message and its attributes' values cut (see Secrets): a string, an error's text, a value's
// printed form, in groups too, and the attributes given to WithAttrs. A log line names what an
// error names, and a store's error names the id it looked up, which may be a run token pasted
// where an id goes; so every line is cut here, whatever logged it.
//
// It keeps h's fast path for request lines (see logging.RequestLogger), cutting their fields
// first. A handler NewHandler returned is returned as it is.
func NewHandler(h slog.Handler) slog.Handler {
	if r, ok := h.(handler); ok {
		return r
	}
	return handler{h}
}

// handler is NewHandler's slog.Handler.
type handler struct{ slog.Handler }

// Handle implements slog.Handler.
func (h handler) Handle(ctx context.Context, r slog.Record) error {
	if !recordHasSecret(r) {
		return h.Handler.Handle(ctx, r)
	}
	out := slog.NewRecord(r.Time, r.Level, Secrets(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(attr(a))
		return true
	})
	return h.Handler.Handle(ctx, out)
}

// WithAttrs implements slog.Handler.
func (h handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	cut := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		cut[i] = attr(a)
	}
	return handler{h.Handler.WithAttrs(cut)}
}

// WithGroup implements slog.Handler.
func (h handler) WithGroup(name string) slog.Handler { return handler{h.Handler.WithGroup(name)} }

// LogRequest implements logging.RequestLogger when h does, with the line's fields cut; it
// reports false (the caller logs the line through Handle) when h does not.
func (h handler) LogRequest(r logging.Request) bool {
	fast, ok := h.Handler.(logging.RequestLogger)
	if !ok {
		return false
	}
	r.Method, r.Path, r.Route = Secrets(r.Method), Secrets(r.Path), Secrets(r.Route)
	r.Remote, r.RequestID = Secrets(r.Remote), Secrets(r.RequestID)
	return fast.LogRequest(r)
}

// recordHasSecret reports whether r's message or an attribute holds Prefix (see Holds).
func recordHasSecret(r slog.Record) bool {
	found := Holds(r.Message)
	r.Attrs(func(a slog.Attr) bool {
		found = found || attrHasSecret(a)
		return !found
	})
	return found
}

// attrHasSecret reports whether a's value (each of a group's) holds Prefix (see Holds).
func attrHasSecret(a slog.Attr) bool {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return Holds(v.String())
	case slog.KindGroup:
		for _, g := range v.Group() {
			if attrHasSecret(g) {
				return true
			}
		}
		return false
	case slog.KindAny:
		return slices.ContainsFunc(printed(v.Any()), Holds)
	}
	return false
}

// attr is a with every secret of its value cut: a string or a value printed with one becomes
// the string cut; a group's attributes are cut each; other values stay as they are.
func attr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		if s := v.String(); Holds(s) {
			return slog.String(a.Key, Secrets(s))
		}
	case slog.KindGroup:
		g := v.Group()
		cut := make([]slog.Attr, len(g))
		for i, ga := range g {
			cut[i] = attr(ga)
		}
		return slog.Attr{Key: a.Key, Value: slog.GroupValue(cut...)}
	case slog.KindAny:
		// The value is written as its one form shown, cut, whichever form held the secret.
		if forms := printed(v.Any()); slices.ContainsFunc(forms, Holds) {
			return slog.String(a.Key, Secrets(forms[0]))
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}

// printed lists the forms in which a handler may write v, the one to write first: a byte
// slice's bytes (of any named type: the text handler writes them as a string, the JSON handler
// as base64, so they are written as text, cut); an error's text (unless it marshals itself to
// JSON); v's JSON encoding (which, unlike fmt's, follows pointers below the top level); its
// MarshalText; fmt's %+v (which shows unexported fields and calls String), unless the JSON
// encoding found a cycle, which fmt would follow for ever; its String. A handler writes one of
// them, so a secret in any counts. A method that panics (a nil pointer's String) gives no form,
// as the handlers write such a value without it.
func printed(v any) []string {
	if v == nil {
		return []string{""}
	}
	if rv := reflect.ValueOf(v); rv.Kind() == reflect.Slice && rv.Type().Elem().Kind() == reflect.Uint8 {
		return []string{string(rv.Bytes())}
	}
	var forms []string
	add := func(form func() (string, bool)) {
		defer func() { _ = recover() }()
		if f, ok := form(); ok {
			forms = append(forms, f)
		}
	}
	err, isErr := v.(error)
	_, marshals := v.(json.Marshaler)
	if isErr && !marshals {
		add(func() (string, bool) { return err.Error(), true })
	}
	cyclic := false
	add(func() (string, bool) {
		b, jerr := json.Marshal(v)
		var unsupported *json.UnsupportedValueError
		cyclic = errors.As(jerr, &unsupported) && strings.Contains(unsupported.Str, "cycle")
		return string(b), jerr == nil
	})
	if isErr && marshals {
		add(func() (string, bool) { return err.Error(), true })
	}
	if tm, ok := v.(encoding.TextMarshaler); ok {
		add(func() (string, bool) {
			b, terr := tm.MarshalText()
			return string(b), terr == nil
		})
	}
	if !cyclic {
		add(func() (string, bool) { return fmt.Sprintf("%+v", v), true })
	}
	if st, ok := v.(fmt.Stringer); ok {
		add(func() (string, bool) { return st.String(), true })
	}
	if len(forms) == 0 {
		return []string{""}
	}
	return forms
}
