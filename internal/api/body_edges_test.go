package api

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/apierror"
)

// watchedBody is a small request body that records whether it was read.
type watchedBody struct{ read bool }

func (b *watchedBody) Read(p []byte) (int, error) {
	b.read = true
	return copy(p, `{"stack":"a"}`), io.EOF
}

func (b *watchedBody) Close() error { return nil }

// TestDeclaredOversizeBodyIsRefusedUnread checks that a request whose Content-Length
// announces more than the 64 KiB cap is answered 413 too_large at once, without reading its
// body: a client announcing a huge body and sending little must not hold the handler.
// Guards against: body.go: the Content-Length check dropped (only the reader's cap left)
func TestDeclaredOversizeBodyIsRefusedUnread(t *testing.T) {
	for _, declared := range []int64{MaxBodyBytes + 1, 1 << 40} {
		body := &watchedBody{}
		r := &http.Request{Body: body, ContentLength: declared}
		err := decodeBody(r, &createRunRequest{}, bodyRequired)
		var ae *apierror.Error
		if !errors.As(err, &ae) || ae.Code != apierror.CodeTooLarge {
			t.Errorf("Content-Length %d: got %v, want too_large", declared, err)
		}
		if body.read {
			t.Errorf("Content-Length %d: the body was read before the refusal", declared)
		}
	}
}

// TestKeyCheckSeesPastEveryJSONSpace checks that the strict key check reads through each
// kind of JSON white space (space, tab, CR, LF) wherever it stands, before the body or between
// tokens: a duplicate or case-variant key after a CR is still refused.
// Guards against: strictkeys.go: '\r' (or another JSON space) dropped from keyScanner.peek
func TestKeyCheckSeesPastEveryJSONSpace(t *testing.T) {
	for _, sp := range []string{" ", "\t", "\r", "\n"} {
		for _, body := range []string{
			sp + `{"stack":"a","stack":"b"}`,
			`{"stack":"a",` + sp + `"stack":"b"}`,
			`{"stack":"a"` + sp + `,"RUNTYPE":"TRACKED"}`,
			`{"stack":` + sp + `"a","runType":"TRACKED",` + sp + `"Phase":"PLANNING"}`,
		} {
			var ae *apierror.Error
			err := decodeString(body, &createRunRequest{})
			if !errors.As(err, &ae) || ae.Code != apierror.CodeInvalidRequest ||
				!strings.Contains(ae.Message, " field ") {
				t.Errorf("%q: got %v, want invalid_request naming the field", body, err)
			}
		}
	}
}

// TestUnknownQueryParameterNameIsCut checks that an unknown query parameter of any length
// is quoted in the refusal cut to its first 64 bytes and marked as cut, not repeated whole.
// Guards against: body.go: clipParam never cuts (len(name) <= maxParamShown -> true)
func TestUnknownQueryParameterNameIsCut(t *testing.T) {
	long := strings.Repeat("q", 300)
	r := &http.Request{Method: http.MethodGet, URL: &url.URL{Path: "/v1/audit", RawQuery: long + "=1"}}
	var ae *apierror.Error
	err := onlyParams(r, "limit")
	if !errors.As(err, &ae) || ae.Code != apierror.CodeInvalidRequest {
		t.Fatalf("got %v, want invalid_request", err)
	}
	if !strings.Contains(ae.Message, `"`+long[:maxParamShown]+`..."`) ||
		strings.Contains(ae.Message, long[:maxParamShown+1]) {
		t.Errorf("message %q does not quote the name cut to %d bytes", ae.Message, maxParamShown)
	}
}

// TestBodyRefusalSaysWhatIsWrong checks that a body refused as invalid JSON for the
// endpoint says why, without repeating the body: a value of the wrong type names the field and
// the type it must be, and a body cut short says it ends early.
// Guards against: body.go: a type error described as "it must be a JSON object"
// Guards against: body.go: a body cut short described as "it must be a JSON object"
func TestBodyRefusalSaysWhatIsWrong(t *testing.T) {
	for _, tc := range []struct {
		body string
		dst  any
		want string
	}{
		{`{"stack":5}`, &createRunRequest{}, `field "stack" must be a string`},
		{`{"stack":"a","runType":["TRACKED"]}`, &createRunRequest{}, `field "runType" must be a string`},
		{`{"audience":true}`, &tokenRequest{}, `field "audience" must be a string`},
		{`{"stack":"a"`, &createRunRequest{}, "it ends early"},
		{`{"stack":`, &createRunRequest{}, "it ends early"},
	} {
		var ae *apierror.Error
		err := decodeString(tc.body, tc.dst)
		if !errors.As(err, &ae) || ae.Code != apierror.CodeInvalidRequest ||
			!strings.Contains(ae.Message, tc.want) {
			t.Errorf("%s: got %v, want invalid_request saying %s", tc.body, err, tc.want)
		}
	}
}

// selfDecoding decodes itself from any JSON object: its keys are its own business.
type selfDecoding struct{ keys int }

func (p *selfDecoding) UnmarshalJSON(b []byte) error {
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	p.keys = len(m)
	return nil
}

// shadowed has an embedded struct whose field shares the outer field's JSON name with
// another type: encoding/json fills the outer one, so its keys are checked as innerBody's.
type shadowed struct {
	Inner innerBody `json:"inner"`
	shadowing
}

type shadowing struct {
	Inner string `json:"inner"`
}

// ownersBody holds a value that decodes itself.
type ownersBody struct {
	Self selfDecoding `json:"self"`
}

// TestCheckKeysFollowsTheDecoder checks that the strict key check judges each object by
// what encoding/json decodes it into: an object read by its own UnmarshalJSON takes any keys
// (it owns them), and a field shadowing a promoted one of the same name is checked as the outer
// field's type.
// Guards against: strictkeys.go: decodesItself always false (a self-decoding value's keys checked)
// Guards against: strictkeys.go: a promoted field's name overwrites the outer field's
func TestCheckKeysFollowsTheDecoder(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		dst        any
		want       string // "" accepts; otherwise a phrase of the message
	}{
		{"self-decoding value", `{"self":{"Any":1,"KEYS":2}}`, &ownersBody{}, ""},
		{"outer field exact", `{"inner":{"mode":"m"}}`, &shadowed{}, ""},
		{"outer field case variant", `{"inner":{"MODE":"m"}}`, &shadowed{}, `unknown field "MODE"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := decodeString(tc.body, tc.dst)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var ae *apierror.Error
			if !errors.As(err, &ae) || ae.Code != apierror.CodeInvalidRequest ||
				!strings.Contains(ae.Message, tc.want) {
				t.Errorf("got %v, want invalid_request saying %s", err, tc.want)
			}
		})
	}
}
