package vaultemu

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
)

// loginFields are the parameters of a JWT login; Vault ignores any other, with a warning.
var loginFields = []string{"role", "jwt"}

// loginBody is a login request's parameters as Vault reads them.
type loginBody struct {
	role, jwt string
	// ignored names the parameters that are not login fields, sorted.
	ignored []string
}

// readLogin reads a login request's body as Vault does: a JSON object (or nothing), each login
// field a string, or a number or a boolean taken as its text. It answers the refusal itself and
// reports false when the body is not one.
func readLogin(w http.ResponseWriter, r *http.Request) (loginBody, bool) {
	var b loginBody
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBytes))
	if err != nil {
		writeErrors(w, http.StatusBadRequest, "error parsing JSON: failed to read the request body")
		return b, false
	}
	params := map[string]any{}
	if len(bytes.TrimSpace(data)) > 0 {
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		if err := dec.Decode(&params); err != nil {
			writeErrors(w, http.StatusBadRequest, "error parsing JSON: failed to parse JSON input: "+err.Error())
			return b, false
		}
	}
	for name := range params {
		if !slices.Contains(loginFields, name) {
			b.ignored = append(b.ignored, name)
		}
	}
	sort.Strings(b.ignored)
	for _, f := range []struct {
		name string
		into *string
	}{{"role", &b.role}, {"jwt", &b.jwt}} {
		text, ok := stringField(params[f.name])
		if !ok {
			v := params[f.name]
			writeErrors(w, http.StatusBadRequest, fmt.Sprintf("Field validation failed: error converting input for field %q: "+
				"'' expected type 'string', got unconvertible type '%T', value: '%v'", f.name, v, v))
			return b, false
		}
		*f.into = text
	}
	return b, true
}

// stringField reads v, a JSON value decoded with UseNumber, as Vault reads a string parameter:
// a string is its text, a number its literal text, true and false "1" and "0", null or absent
// "". An array or an object does not convert.
func stringField(v any) (string, bool) {
	switch v := v.(type) {
	case nil:
		return "", true
	case string:
		return v, true
	case json.Number:
		return v.String(), true
	case bool:
		if v {
			return "1", true
		}
		return "0", true
	}
	return "", false
}

// warnings is what Vault warns of a login with b's parameters: nil, or the ignored ones.
func (b loginBody) warnings() []string {
	if len(b.ignored) == 0 {
		return nil
	}
	return []string{"Endpoint ignored these unrecognized parameters: [" + strings.Join(b.ignored, " ") + "]"}
}
