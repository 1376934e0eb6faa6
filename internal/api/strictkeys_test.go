package api

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/apierror"
)

// nestedBody exercises checkKeys below the top level: a struct, a pointer to one, a slice of
// them, a map, a promoted field, a renamed and an ignored one, and values that decode themselves.
type nestedBody struct {
	Name   string            `json:"name"`
	Inner  innerBody         `json:"inner"`
	Ptr    *innerBody        `json:"ptr,omitempty"`
	List   []innerBody       `json:"list"`
	Labels map[string]string `json:"labels"`
	Raw    json.RawMessage   `json:"raw"`
	When   time.Time         `json:"when"`
	Plain  int               // no tag: its Go name
	Hidden string            `json:"-"`
	embeddedBody
}

type innerBody struct {
	Mode string `json:"mode"`
}

type embeddedBody struct {
	Extra string `json:"extra"`
}

func decodeString(body string, dst any) error {
	r := &http.Request{Body: io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body))}
	return decodeBody(r, dst, bodyRequired)
}

func TestDecodeBodyRefusesCaseVariantAndDuplicateKeys(t *testing.T) {
	cases := []struct {
		name, body string
		dst        func() any
		want       string // "" accepts; otherwise a phrase of the message
	}{
		{"exact names", `{"stack":"a","runType":"PROPOSED","phase":"PLANNING"}`, newCreate, ""},
		{"the issue's body", `{"stack":"a","runType":"PROPOSED","RUNTYPE":"TRACKED"}`, newCreate, `unknown field "RUNTYPE"`},
		{"case variant alone", `{"stack":"a","RunType":"TRACKED"}`, newCreate, `unknown field "RunType"`},
		{"unicode fold (long s)", `{"ſtack":"a","runType":"TRACKED"}`, newCreate, `unknown field "\u017ftack"`},
		{"duplicate key", `{"stack":"a","runType":"PROPOSED","runType":"TRACKED"}`, newCreate, `duplicate field "runType"`},
		{"duplicate through an escape", `{"stack":"a","runType":"PROPOSED","run\u0054ype":"TRACKED"}`, newCreate, `duplicate field "runType"`},
		{"exact name through an escape", `{"st\u0061ck":"a"}`, newCreate, ""},
		{"duplicate of equal value", `{"stack":"a","stack":"a"}`, newCreate, `duplicate field "stack"`},
		{"unknown key", `{"stack":"a","bogus":1}`, newCreate, `unknown field "bogus"`},
		{"finish takes no keys", `{"Phase":"x"}`, func() any { return &struct{}{} }, `unknown field "Phase"`},
		{"audience case variant", `{"Audience":"x"}`, func() any { return &tokenRequest{} }, `unknown field "Audience"`},
		{"provider duplicate", `{"provider":"gcp","provider":"aws"}`, func() any { return &credentialsRequest{} }, `duplicate field "provider"`},
		{"long name is cut", `{"` + strings.Repeat("x", 500) + `":1}`, newCreate, `unknown field "` + strings.Repeat("x", maxQuotedName) + `..."`},

		{"nested exact", `{"name":"n","inner":{"mode":"m"},"ptr":{"mode":"p"},"list":[{"mode":"a"},{"mode":"b"}],` +
			`"labels":{"a":"1","A":"2"},"raw":{"x":1,"X":2},"when":"2024-01-02T03:04:05Z","Plain":3,"extra":"e"}`, newNested, ""},
		{"nested case variant", `{"inner":{"MODE":"m"}}`, newNested, `unknown field "MODE"`},
		{"nested duplicate", `{"inner":{"mode":"a","mode":"b"}}`, newNested, `duplicate field "mode"`},
		{"pointer struct case variant", `{"ptr":{"Mode":"m"}}`, newNested, `unknown field "Mode"`},
		{"slice element case variant", `{"list":[{"mode":"a"},{"mOde":"b"}]}`, newNested, `unknown field "mOde"`},
		{"map duplicate", `{"labels":{"a":"1","a":"2"}}`, newNested, `duplicate field "a"`},
		{"map keys not UTF-8", "{\"labels\":{\"\xff\":\"1\",\"\xfe\":\"2\"}}", newNested, `not UTF-8`},
		{"map keys equal once decoded", `{"labels":{"a":"1","\u0061":"2"}}`, newNested, `duplicate field "a"`},
		{"raw message duplicate", `{"raw":{"x":[1,{"y":1,"y":2}]}}`, newNested, `duplicate field "y"`},
		{"promoted case variant", `{"Extra":"e"}`, newNested, `unknown field "Extra"`},
		{"untagged field by another case", `{"plain":3}`, newNested, `unknown field "plain"`},
		{"ignored field", `{"Hidden":"h"}`, newNested, `unknown field "Hidden"`},
		{"top-level duplicate after nesting", `{"inner":{"mode":"a"},"inner":{"mode":"b"}}`, newNested, `duplicate field "inner"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := decodeString(tc.body, tc.dst())
			if tc.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var ae *apierror.Error
			if !errors.As(err, &ae) || ae.Code != apierror.CodeInvalidRequest {
				t.Fatalf("got %v, want invalid_request", err)
			}
			if !strings.Contains(ae.Message, tc.want) {
				t.Errorf("message %q does not say %s", ae.Message, tc.want)
			}
		})
	}
}

func newCreate() any { return &createRunRequest{} }
func newNested() any { return &nestedBody{} }

// TestCheckKeysScansValidJSON runs the scanner over every shape of valid JSON value and
// requires it to accept them all when the type takes any keys.
func TestCheckKeysScansValidJSON(t *testing.T) {
	for _, body := range []string{
		`null`, `true`, `-1.5e3`, `"a\"b\\"`, `[]`, `{}`, ` [ 1 , "x" , { } , [ null ] ] `,
		`{"a":{"b":[{"c":"\u00e9"}]},"b":"}","c":"\\","d":[true,false]}`,
	} {
		var v any
		if err := json.Unmarshal([]byte(body), &v); err != nil {
			t.Fatalf("%s is not valid JSON: %v", body, err)
		}
		if err := checkKeys([]byte(body), nil); err != nil {
			t.Errorf("checkKeys(%s) = %v", body, err)
		}
	}
}

func TestDecodeBodyRefusesTrailingData(t *testing.T) {
	for _, body := range []string{`{"stack":"a"} {}`, `{"stack":"a"} }`, `{"stack":"a"}]`, `{"stack":"a"} x`, `{} null`} {
		var ae *apierror.Error
		if err := decodeString(body, newCreate()); !errors.As(err, &ae) || !strings.Contains(ae.Message, "more than one JSON value") {
			t.Errorf("%s: got %v, want more than one JSON value", body, err)
		}
	}
	if err := decodeString("{\"stack\":\"a\"} \n\t ", newCreate()); err != nil {
		t.Errorf("trailing white space refused: %v", err)
	}
}

// hasDuplicateKey is an independent oracle for checkKeys on types that take any keys: it walks
// the value with encoding/json's tokenizer and reports whether some object repeats a key.
func hasDuplicateKey(data []byte) bool {
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.UseNumber()
	type frame struct {
		object, wantKey bool
		keys            map[string]bool
	}
	var stack []*frame
	valueDone := func() {
		if n := len(stack); n > 0 && stack[n-1].object {
			stack[n-1].wantKey = true
		}
	}
	for {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		top := (*frame)(nil)
		if n := len(stack); n > 0 {
			top = stack[n-1]
		}
		if key, ok := tok.(string); ok && top != nil && top.object && top.wantKey {
			if top.keys[key] {
				return true
			}
			top.keys[key] = true
			top.wantKey = false
			continue
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{object: true, wantKey: true, keys: map[string]bool{}})
			continue
		case json.Delim('['):
			stack = append(stack, &frame{})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
		valueDone()
		if len(stack) == 0 {
			return false
		}
	}
}

// FuzzCheckKeys holds checkKeys to the tokenizer oracle on every valid JSON value, with a type
// that takes any keys, and requires it never to lose its way in valid JSON.
func FuzzCheckKeys(f *testing.F) {
	for _, seed := range []string{`{"a":1,"a":2}`, `{"a":{"b":1},"b":[{"c":1,"c":2}]}`, `[{"x":"}"},{"x":"\"","x":1}]`,
		`{"a\u0062":1,"ab":2}`, "{\"\xff\":1,\"\xfe\":2}", `{"stack":"a","runType":"PROPOSED","RUNTYPE":"TRACKED"}`, `"s"`, `null`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var v any
		if json.Unmarshal(data, &v) != nil {
			return
		}
		err := checkKeys(data, nil)
		if errors.Is(err, errKeyScan) {
			t.Fatalf("checkKeys lost its way in valid JSON %q", data)
		}
		if got, want := err != nil, hasDuplicateKey(data); got != want {
			t.Fatalf("checkKeys(%q) = %v; the tokenizer finds a duplicate: %v", data, err, want)
		}
		_ = checkKeys(data, reflect.TypeFor[*nestedBody]()) // must not panic
	})
}
