package oidctrust

import (
	"encoding/base64"
	"encoding/json"
	"strings"
)

// checkCompact refuses a compact JWS whose text is not exactly what its signature covers, as the
// token services do by verifying the signature over the characters received: it must be three
// segments, each the canonical unpadded base64url form of its bytes (a decoder that skips a line
// break or ignores set low bits in a last character would take other text for the same bytes),
// and its header may carry no crit parameter and no b64 other than true (a payload signed
// unencoded, which no token service takes).
func checkCompact(token string) error {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return &ParseError{Kind: ErrMalformed, Reason: "a compact JWS has three segments"}
	}
	names := [3]string{"header", "payload", "signature"}
	var header []byte
	for i, part := range parts {
		b, err := base64.RawURLEncoding.Strict().DecodeString(part)
		if err != nil || base64.RawURLEncoding.EncodeToString(b) != part {
			return &ParseError{Kind: ErrMalformed, Reason: "the " + names[i] + " is not canonical unpadded base64url"}
		}
		if i == 0 {
			header = b
		}
	}
	var params map[string]json.RawMessage
	if err := json.Unmarshal(header, &params); err != nil {
		return &ParseError{Kind: ErrMalformed, Reason: "the header is not a JSON object"}
	}
	if _, ok := params["crit"]; ok {
		return &ParseError{Kind: ErrMalformed, Reason: "the header names critical extensions (crit)"}
	}
	if b64, ok := params["b64"]; ok && string(b64) != "true" {
		return &ParseError{Kind: ErrMalformed, Reason: "the payload is not base64url-encoded (b64)"}
	}
	return nil
}
