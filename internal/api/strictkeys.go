package api

import (
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/brokerhq/broker/internal/config"
	"reflect"
	"sync"
)

// encoding/json matches an object key to a struct field regardless of case (and of Unicode case
// folding: "ſtack" fills Stack) and lets the last of two equal keys win, so a body can say one
// thing to a reviewer or a filtering proxy and another to the broker. checkKeys closes that gap:
// every key of an object decoded into a struct must be exactly one of the struct's JSON names,
// and no object, at any depth, may hold the same key twice.

// maxQuotedName bounds how much of a refused key an error message repeats.
const maxQuotedName = 64

// keyError is a body refused for one of its object keys.
type keyError struct {
	problem string // "unknown" or "duplicate"
	name    string
}

func (e *keyError) Error() string {
	name := config.RedactLogins(e.name) // a URL written as a key, redacted before the cut
	if len(name) > maxQuotedName {
		name = name[:maxQuotedName] + "..."
	}
	return fmt.Sprintf("%s field %+q", e.problem, name) // ASCII only: no bidi or control runes
}

// errKeyScan is a body the key scanner could not follow; decodeBody has already parsed it, so
// reaching this is a bug, and the body is refused rather than trusted.
var errKeyScan = errors.New("it could not be read as one JSON value")

// checkKeys scans the JSON value at the start of data, which must already have been decoded
// successfully into a value of type t, and returns a *keyError for its first case-variant,
// unknown or duplicate key.
func checkKeys(data []byte, t reflect.Type) error {
	s := keyScanner{data: data}
	return s.value(t)
}

// keyScanner walks JSON that encoding/json has accepted, so it only needs to find the keys.
type keyScanner struct {
	data []byte
	pos  int
}

// peek skips white space and returns the next byte, or 0 at the end.
func (s *keyScanner) peek() byte {
	for s.pos < len(s.data) {
		switch c := s.data[s.pos]; c {
		case ' ', '\t', '\r', '\n':
			s.pos++
		default:
			return c
		}
	}
	return 0
}

// value scans one value that decodes into t (nil: a type that takes any object keys).
func (s *keyScanner) value(t reflect.Type) error {
	switch s.peek() {
	case '{':
		return s.object(t)
	case '[':
		return s.array(elemType(t))
	case '"':
		_, _, err := s.str()
		return err
	case 0, ',', ':', '}', ']':
		return errKeyScan
	}
	for s.pos < len(s.data) { // number, true, false or null
		switch s.data[s.pos] {
		case ',', '}', ']', ' ', '\t', '\r', '\n':
			return nil
		}
		s.pos++
	}
	return nil
}

func (s *keyScanner) array(elem reflect.Type) error {
	s.pos++ // '['
	if s.peek() == ']' {
		s.pos++
		return nil
	}
	for {
		if err := s.value(elem); err != nil {
			return err
		}
		switch s.peek() {
		case ',':
			s.pos++
		case ']':
			s.pos++
			return nil
		default:
			return errKeyScan
		}
	}
}

func (s *keyScanner) object(t reflect.Type) error {
	s.pos++ // '{'
	fields := structFieldsOf(t)
	var elem reflect.Type // of a map's values, when the object is not a struct
	if fields == nil {
		elem = elemType(t)
	}
	var seenBits uint64          // fields seen, by index, for the first 64 fields
	var seen map[string]struct{} // names seen otherwise
	if s.peek() == '}' {
		s.pos++
		return nil
	}
	for {
		if s.peek() != '"' {
			return errKeyScan
		}
		name, err := s.key()
		if err != nil {
			return err
		}
		if s.peek() != ':' {
			return errKeyScan
		}
		s.pos++
		valueType, i := elem, -1
		if fields != nil {
			var ok bool
			if i, ok = fields.index[string(name)]; !ok { // string(name) in an index does not allocate
				return &keyError{problem: "unknown", name: string(name)}
			}
			valueType = fields.types[i]
		}
		var dup bool
		if i >= 0 && i < 64 {
			dup = seenBits&(1<<i) != 0
			seenBits |= 1 << i
		} else {
			if seen == nil {
				seen = make(map[string]struct{})
			}
			if _, dup = seen[string(name)]; !dup {
				seen[string(name)] = struct{}{}
			}
		}
		if dup {
			return &keyError{problem: "duplicate", name: string(name)}
		}
		if err := s.value(valueType); err != nil {
			return err
		}
		switch s.peek() {
		case ',':
			s.pos++
		case '}':
			s.pos++
			return nil
		default:
			return errKeyScan
		}
	}
}

// str scans a string and returns it with its quotes, and whether it is plain: without escapes
// and all ASCII, so that the bytes between the quotes are the decoded string.
func (s *keyScanner) str() (raw []byte, plain bool, err error) {
	start := s.pos
	plain = true
	for s.pos++; s.pos < len(s.data); s.pos++ {
		switch c := s.data[s.pos]; {
		case c == '\\':
			plain = false
			s.pos++
		case c >= 0x80:
			plain = false
		case c == '"':
			s.pos++
			return s.data[start:s.pos], plain, nil
		}
	}
	return nil, false, errKeyScan
}

// key scans an object key and returns it as encoding/json decodes it.
func (s *keyScanner) key() ([]byte, error) {
	raw, plain, err := s.str()
	if err != nil {
		return nil, err
	}
	if plain {
		return raw[1 : len(raw)-1], nil
	}
	var out string
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, errKeyScan
	}
	return []byte(out), nil
}

// structFields are the JSON names of a struct type's fields, exactly as encoding/json writes them.
type structFields struct {
	index map[string]int
	types []reflect.Type
}

var fieldCache sync.Map // reflect.Type -> *structFields

var (
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// decodesItself reports whether values of t are decoded by their own method, which then owns
// the meaning of any object keys.
func decodesItself(t reflect.Type) bool {
	p := reflect.PointerTo(t)
	return t.Implements(jsonUnmarshaler) || p.Implements(jsonUnmarshaler) || p.Implements(textUnmarshaler)
}

// structFieldsOf returns the fields of t when t (through pointers) is a struct that
// encoding/json fills field by field, or nil.
func structFieldsOf(t reflect.Type) *structFields {
	t = deref(t)
	if t == nil || t.Kind() != reflect.Struct {
		return nil
	}
	if f, ok := fieldCache.Load(t); ok {
		return f.(*structFields)
	}
	var f *structFields // stays nil for a struct that decodes itself, such as time.Time
	if !decodesItself(t) {
		f = &structFields{index: map[string]int{}}
		addFields(f, t)
	}
	fieldCache.Store(t, f)
	return f
}

// addFields adds the JSON names of t's fields to f, those of embedded structs without a name
// after the struct's own, so an outer field wins over a promoted one.
func addFields(f *structFields, t reflect.Type) {
	var embedded []reflect.Type
	for i := range t.NumField() {
		sf := t.Field(i)
		tag := sf.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name := tag
		for j := range len(tag) {
			if tag[j] == ',' {
				name = tag[:j]
				break
			}
		}
		if sf.Anonymous && name == "" {
			if ft := deref(sf.Type); ft.Kind() == reflect.Struct {
				embedded = append(embedded, ft)
				continue
			}
		}
		if !sf.IsExported() {
			continue
		}
		if name == "" {
			name = sf.Name
		}
		if _, taken := f.index[name]; !taken {
			f.index[name] = len(f.types)
			f.types = append(f.types, sf.Type)
		}
	}
	for _, et := range embedded {
		addFields(f, et)
	}
}

// elemType is the type of the values inside a map, slice or array of type t, or nil.
func elemType(t reflect.Type) reflect.Type {
	t = deref(t)
	if t == nil || decodesItself(t) {
		return nil
	}
	switch t.Kind() {
	case reflect.Map, reflect.Slice, reflect.Array:
		return t.Elem()
	}
	return nil
}

func deref(t reflect.Type) reflect.Type {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}
