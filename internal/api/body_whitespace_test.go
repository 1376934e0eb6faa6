package api

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/apierror"
)

// TestDecodeBodyWhitespace holds decodeBody to JSON's white space (space, tab, CR, LF): only a
// body of those is no body; Unicode white space that JSON does not count (U+00A0, U+0085,
// U+2028, U+000B, U+000C...) is malformed JSON, alone, before the object or after it.
func TestDecodeBodyWhitespace(t *testing.T) {
	cases := []struct {
		name, body string
		rule       bodyRule
		wantErr    bool
	}{
		{"empty, optional", "", bodyOptional, false},
		{"JSON white space, optional", " \t\r\n", bodyOptional, false},
		{"empty, required", "", bodyRequired, true},
		{"JSON white space, required", " \t\r\n", bodyRequired, true},
		{"object framed by JSON white space", " \t\r\n{}\r\n\t ", bodyOptional, false},
		{"no-break space, optional", "\u00a0", bodyOptional, true},
		{"next line, optional", "\u0085", bodyOptional, true},
		{"line separator, optional", "\u2028", bodyOptional, true},
		{"vertical tab, optional", "\v", bodyOptional, true},
		{"form feed, optional", "\f", bodyOptional, true},
		{"no-break space among JSON white space", " \u00a0\n", bodyOptional, true},
		{"no-break space before the object", "\u00a0{}", bodyOptional, true},
		{"no-break space after the object", "{}\u00a0", bodyOptional, true},
		{"line separator after the object", "{\"audience\":\"a\"}\u2028", bodyOptional, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := &http.Request{Body: io.NopCloser(strings.NewReader(tc.body)), ContentLength: int64(len(tc.body))}
			var req tokenRequest
			err := decodeBody(r, &req, tc.rule)
			if !tc.wantErr {
				if err != nil {
					t.Fatalf("decodeBody(%+q) = %v, want accepted", tc.body, err)
				}
				return
			}
			var ae *apierror.Error
			if !errors.As(err, &ae) || ae.Code != apierror.CodeInvalidRequest {
				t.Fatalf("decodeBody(%+q) = %v, want invalid_request", tc.body, err)
			}
		})
	}
}
