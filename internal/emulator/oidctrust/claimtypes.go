package oidctrust

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// ClaimTypeError is a registered claim of the wrong JSON type: a NumericDate (exp, nbf, iat)
// that is not a number, an aud that is neither a string nor an array of strings, or a sub or
// jti that is not a string. It is ErrMalformed.
type ClaimTypeError struct {
	// Claim is the claim's name.
	Claim string
	// Got is its JSON type: "string", "number", "bool", "array" or "object".
	Got string
}

// Error names the claim and the type it has.
func (e *ClaimTypeError) Error() string {
	return fmt.Sprintf("%v: claim %q is a JSON %s", ErrMalformed, e.Claim, e.Got)
}

// Is reports whether target is ErrMalformed.
func (e *ClaimTypeError) Is(target error) bool { return target == ErrMalformed }

// claimKind is what a registered claim must be; null is taken for any of them, as absent.
type claimKind int

const (
	numericDate claimKind = iota + 1
	audience
	stringClaim
)

// registered are the claims whose type checkClaimTypes checks. The iss claim is checked by
// its value, which must equal the policy's issuer.
var registered = map[string]claimKind{
	"exp": numericDate, "nbf": numericDate, "iat": numericDate,
	"aud": audience, "sub": stringClaim, "jti": stringClaim,
}

// checkClaimTypes checks the registered claims of a verified payload, a JSON object, in the
// order they appear. A NumericDate or aud of the wrong type is reported at once, and otherwise
// the first string claim of the wrong type, as a JWT library that decodes the claims into a
// struct reports them: a type that decodes itself stops the decoding, a plain string field
// does not.
func checkClaimTypes(payload []byte) error {
	dec := json.NewDecoder(bytes.NewReader(payload))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return fmt.Errorf("%w: payload is not a JSON object", ErrMalformed)
	}
	var firstString error
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return fmt.Errorf("%w: payload is not a JSON object", ErrMalformed)
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return fmt.Errorf("%w: payload is not a JSON object", ErrMalformed)
		}
		name, _ := key.(string)
		kind, ok := registered[name]
		if !ok || fits(kind, raw) {
			continue
		}
		bad := &ClaimTypeError{Claim: name, Got: jsonType(raw)}
		if kind != stringClaim {
			return bad
		}
		if firstString == nil {
			firstString = bad
		}
	}
	return firstString
}

// fits reports whether raw is of kind, or null.
func fits(kind claimKind, raw json.RawMessage) bool {
	t := jsonType(raw)
	switch {
	case t == "null":
		return true
	case kind == numericDate:
		return t == "number"
	case kind == stringClaim:
		return t == "string"
	case t == "string":
		return true
	case t != "array":
		return false
	}
	var list []any
	_ = json.Unmarshal(raw, &list)
	for _, a := range list {
		if _, ok := a.(string); !ok {
			return false
		}
	}
	return true
}

// jsonType names the type of the JSON value raw by its first byte.
func jsonType(raw json.RawMessage) string {
	switch raw[0] {
	case '"':
		return "string"
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "bool"
	case 'n':
		return "null"
	}
	return "number"
}
