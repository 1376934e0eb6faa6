package config

import (
	"fmt"
	"reflect"

	"gopkg.in/yaml.v3"
)

// DecodeYAML decodes a YAML document into dst (a pointer to a struct with yaml tags) with the
// configuration file's rules: unknown and duplicate keys are refused, types are checked, and
// durations are Go duration strings. It applies no defaults and does not validate, so a tool
// can read a part of the file's shape (such as only its object lists) as strictly as Load
// reads the whole. Every problem is returned at once, each naming its key path and line, with
// source in front.
func DecodeYAML(source string, data []byte, dst any) error {
	v := reflect.ValueOf(dst)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("config.DecodeYAML: dst must point to a struct, got %T", dst)
	}
	root, err := readDocument(source, data)
	if err != nil {
		return err
	}
	d := &decoder{source: source, lines: map[string]int{}, bad: map[string]bool{}}
	if root.Kind != 0 && root.Kind != yaml.DocumentNode {
		d.decode(root, "", v.Elem())
	}
	d.errs.sortByLine()
	return d.errs.orNil()
}
