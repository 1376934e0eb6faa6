package api

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
)

// plainTokenRequest has tokenRequest's JSON fields but no decodeFast, so decodeBody takes the
// encoding/json path for it.
type plainTokenRequest struct {
	Audience string `json:"audience"`
}

// errReader is a body whose read fails after data.
type errReader struct {
	data string
	done bool
}

func (e *errReader) Read(p []byte) (int, error) {
	if e.done {
		return 0, errors.New("connection reset")
	}
	e.done = true
	return copy(p, e.data), nil
}

// TestTokenBodyFastPathMatchesJSON decodes token bodies through decodeBody with and without
// tokenRequest's fast path: the audience and the error message must be the same.
func TestTokenBodyFastPathMatchesJSON(t *testing.T) {
	bodies := []string{
		``, ` `, `{}`, `{ }`, `{}}`, `{}x`, `{"audience":"sts.amazonaws.com"}`, `{"audience":""}`,
		`{"audience":"a"} `, ` {"audience":"a"}`, `{"audience":"a"}` + "\u00a0", `{"audience":"a"}}`,
		`{"audience":"a"}"}`, `{"audience":"}`, `{"audience":"\u00e9"}`, `{"audience":"é"}`,
		`{"audience":"a\"b"}`, `{"audience":"a\\b"}`, "{\"audience\":\"a\tb\"}", `{"audience":"a` + "\xff" + `"}`,
		`{"Audience":"a"}`, `{"audience":"a","audience":"b"}`, `{"aud":"a"}`, `{"audience":1}`,
		`{"audience":null}`, `{"audience":"a"`, `{"audience": "a"}`, `[]`, `"a"`, `null`,
		`{"audience":"https://example.com/x?y=1&z=~"}`, `{"audience":"` + strings.Repeat("a", 5000) + `"}`,
		`{"audience":"` + strings.Repeat("a", MaxBodyBytes) + `"}`,
	}
	decode := func(body string, dst any) error {
		r := &http.Request{Body: io.NopCloser(strings.NewReader(body))}
		return decodeBody(r, dst, bodyOptional)
	}
	for _, body := range bodies {
		var fast tokenRequest
		var plain plainTokenRequest
		ferr, perr := decode(body, &fast), decode(body, &plain)
		if fmtErr(ferr) != fmtErr(perr) || fast.Audience != plain.Audience {
			t.Errorf("body %.80q: fast path gave (%q, %v), encoding/json (%q, %v)", body, fast.Audience, ferr, plain.Audience, perr)
		}
	}
	// A failed read is refused the same way on both paths, even after a compact body.
	for _, dst := range []any{&tokenRequest{}, &plainTokenRequest{}} {
		r := &http.Request{Body: io.NopCloser(&errReader{data: `{"audience":"a"}`})}
		if err := decodeBody(r, dst, bodyOptional); !strings.HasSuffix(fmtErr(err), "The request body could not be read.") {
			t.Errorf("%T: failed read gave %v", dst, err)
		}
	}
}

func fmtErr(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

// TestBodyMustBeAnObject: a body that is JSON but not an object is refused, null included,
// which encoding/json alone would decode into a struct as nothing.
func TestBodyMustBeAnObject(t *testing.T) {
	for _, body := range []string{`null`, ` null `, `[]`, `"a"`, `5`, `true`, `[{}]`} {
		for _, rule := range []bodyRule{bodyOptional, bodyRequired} {
			r := &http.Request{Body: io.NopCloser(strings.NewReader(body))}
			var dst plainTokenRequest
			if err := decodeBody(r, &dst, rule); !strings.HasSuffix(fmtErr(err), "it must be a JSON object.") {
				t.Errorf("body %q: %v, want it refused as not an object", body, err)
			}
		}
	}
}
