package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"time"
	"unicode/utf8"
)

// The API's bodies carry the same fields as the file, named in camelCase: role_arn becomes
// roleArn. DecodeJSON and EncodeJSON derive those names from the yaml tags, so the file and
// the API share one field list and one decoder (the same unknown-key, duplicate-key and type
// checks, and durations written as Go duration strings).

// CamelKey turns a file key such as "subject_template" into its API name "subjectTemplate".
func CamelKey(key string) string {
	if !strings.Contains(key, "_") {
		return key
	}
	parts := strings.Split(key, "_")
	var b strings.Builder
	b.WriteString(parts[0])
	for _, p := range parts[1:] {
		if p == "" {
			continue
		}
		b.WriteString(strings.ToUpper(p[:1]))
		b.WriteString(p[1:])
	}
	return b.String()
}

// CamelPath turns a key path such as "aws.role_arn" or "autoattach[0].label" into its API form.
func CamelPath(path string) string {
	parts := strings.Split(path, ".")
	for i, p := range parts {
		parts[i] = CamelKey(p)
	}
	return strings.Join(parts, ".")
}

// DecodeJSON decodes a JSON object into dst (a pointer to a struct with yaml tags), with field
// names in camelCase. Names must match exactly (no case folding), a key may appear once per
// object, unknown keys are refused, and durations are Go duration strings. Every problem is
// returned at once, each naming its field path.
func DecodeJSON(data []byte, dst any) error {
	if !json.Valid(data) || !utf8.Valid(data) { // encoding/json would replace invalid UTF-8
		return Errors{{Msg: "not valid JSON"}}
	}
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return Errors{{Msg: "the body must be a JSON object"}}
	}
	// The node tree keeps every key, duplicates included, so the file's decoder can judge them.
	root, err := jsonNode(data)
	if err != nil {
		return Errors{{Msg: "not valid JSON"}}
	}
	v := reflect.ValueOf(dst)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("config.DecodeJSON: dst must point to a struct, got %T", dst)
	}
	d := &decoder{lines: map[string]int{}, bad: map[string]bool{}, keyName: CamelKey, jsonTypes: true}
	d.decode(root, "", v.Elem())
	for _, e := range d.errs {
		e.Line = 0 // a JSON body is one line as far as a client is concerned
	}
	return d.errs.orNil()
}

// EncodeJSON renders v (a struct with yaml tags, or a pointer to one) as a JSON object with
// camelCase names in field order, durations as Go duration strings. Empty strings, zero
// durations, nil pointers and empty lists are left out; booleans and numbers are always shown.
func EncodeJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	if err := encodeValue(&b, reflect.ValueOf(v)); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// EncodeJSONFields is EncodeJSON for an API answer: the object's own fields that are empty
// strings or empty lists are written too ("" and []), so that the answer names every field of
// its body. Nil pointers (a provider block the object does not use) and zero durations (the
// default) stay out, as do empty fields of nested objects.
func EncodeJSONFields(v any) ([]byte, error) {
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer && !rv.IsNil() {
		rv = rv.Elem()
	}
	if rv.Kind() != reflect.Struct {
		return EncodeJSON(v)
	}
	var b bytes.Buffer
	if err := encodeFields(&b, rv, func(fv reflect.Value) bool {
		return fv.Kind() != reflect.String && fv.Kind() != reflect.Slice && omitEmpty(fv)
	}); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func encodeValue(b *bytes.Buffer, v reflect.Value) error {
	if v.Type() == durationType {
		return writeJSONString(b, time.Duration(v.Int()).String())
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			b.WriteString("null")
			return nil
		}
		return encodeValue(b, v.Elem())
	case reflect.String:
		return writeJSONString(b, v.String())
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		out, err := json.Marshal(v.Interface())
		if err != nil {
			return err
		}
		b.Write(out)
		return nil
	case reflect.Slice:
		b.WriteByte('[')
		for i := range v.Len() {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := encodeValue(b, v.Index(i)); err != nil {
				return err
			}
		}
		b.WriteByte(']')
		return nil
	case reflect.Struct:
		return encodeStruct(b, v)
	}
	return fmt.Errorf("config.EncodeJSON: unsupported type %s", v.Type())
}

func encodeStruct(b *bytes.Buffer, v reflect.Value) error {
	return encodeFields(b, v, omitEmpty)
}

// encodeFields writes struct v, leaving out the fields omit names.
func encodeFields(b *bytes.Buffer, v reflect.Value, omit func(reflect.Value) bool) error {
	t := v.Type()
	b.WriteByte('{')
	first := true
	for i := range t.NumField() {
		name, ok := yamlKey(t.Field(i))
		if !ok {
			continue
		}
		fv := v.Field(i)
		if omit(fv) {
			continue
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		if err := writeJSONString(b, CamelKey(name)); err != nil {
			return err
		}
		b.WriteByte(':')
		if err := encodeValue(b, fv); err != nil {
			return err
		}
	}
	b.WriteByte('}')
	return nil
}

func omitEmpty(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.String, reflect.Slice, reflect.Map:
		return v.Len() == 0
	case reflect.Pointer, reflect.Interface:
		return v.IsNil()
	}
	return v.Type() == durationType && v.Int() == 0
}

func writeJSONString(b *bytes.Buffer, s string) error {
	out, err := json.Marshal(s)
	if err != nil {
		return err
	}
	b.Write(out)
	return nil
}
