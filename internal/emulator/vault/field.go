package vaultemu

import (
	"bytes"
	"encoding/json"
)

// field is a string field of a request body as Vault reads it: a JSON string is its text, a
// number its literal text, true and false "1" and "0", null "". An array or an object does not
// convert, and is kept as decoded to word the refusal.
type field struct {
	text          string
	unconvertible any
}

// UnmarshalJSON reads one JSON value into f.
func (f *field) UnmarshalJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return err
	}
	switch v := v.(type) {
	case nil:
	case string:
		f.text = v
	case json.Number:
		f.text = v.String()
	case bool:
		f.text = "0"
		if v {
			f.text = "1"
		}
	default:
		f.unconvertible = v
	}
	return nil
}
