package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/brokerhq/broker/internal/apierror"
)

// MaxBodyBytes is the contract's body cap; larger bodies get 413.
const MaxBodyBytes = 64 << 10

// decodeBody reads a JSON object into dst. An empty body leaves dst as it is when optional is
// set; unknown, case-variant and duplicate keys (checkKeys), trailing data and malformed JSON
// are invalid_request; a body over the cap is too_large.
func decodeBody(r *http.Request, dst any, optional bodyRule) error {
	if r.ContentLength > MaxBodyBytes {
		return tooLarge()
	}
	buf := bodyBufs.Get().(*bytes.Buffer)
	defer putBodyBuf(buf)
	_, err := buf.ReadFrom(http.MaxBytesReader(nil, r.Body, MaxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return tooLarge()
		}
		return apierror.New(apierror.CodeInvalidRequest, "The request body could not be read.")
	}
	data := buf.Bytes()
	if isBlankJSON(data) {
		if optional == bodyOptional {
			return nil
		}
		return apierror.New(apierror.CodeInvalidRequest, "A JSON request body is required.")
	}
	if trimJSONSpace(data)[0] != '{' {
		// encoding/json decodes null into a struct as nothing at all: refused like [] or "x".
		return apierror.New(apierror.CodeInvalidRequest, "The request body is not valid JSON for this endpoint: it must be a JSON object.")
	}
	if fd, ok := dst.(fastDecoder); ok && fd.decodeFast(data) {
		return nil
	}
	if !utf8.Valid(data) {
		// JSON is UTF-8, and encoding/json would take each bad byte as U+FFFD: a value the
		// client never sent. Refused as the administration bodies are.
		return apierror.New(apierror.CodeInvalidRequest, "The request body is not valid JSON for this endpoint: it is not UTF-8.")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return apierror.New(apierror.CodeInvalidRequest, "The request body is not valid JSON for this endpoint: %s.", describeJSONError(err))
	}
	if !isBlankJSON(data[dec.InputOffset():]) { // dec.More() misses a stray '}' or ']'
		return apierror.New(apierror.CodeInvalidRequest, "The request body holds more than one JSON value.")
	}
	if err := checkKeys(data, reflect.TypeOf(dst)); err != nil {
		return apierror.New(apierror.CodeInvalidRequest, "The request body is not valid JSON for this endpoint: %s.", err)
	}
	return nil
}

// isBlankJSON reports whether data is empty or only JSON white space (space, tab, CR, LF), the
// one form of "no body". Other Unicode white space (U+00A0, U+0085, U+2028...) is not JSON white
// space: a body of it is malformed JSON, not an absent body.
func isBlankJSON(data []byte) bool {
	return len(trimJSONSpace(data)) == 0
}

// trimJSONSpace returns data without its leading and trailing JSON white space (space, tab, CR,
// LF) and nothing else.
func trimJSONSpace(data []byte) []byte {
	return bytes.Trim(data, jsonSpace)
}

// jsonSpace is the white space of RFC 8259 section 2.
const jsonSpace = " \t\r\n"

// fastDecoder is a request type that can decode the common, compact form of its body without
// encoding/json. decodeFast fills the receiver and returns true only when data is a body that
// decodeBody's full path would accept and decode to exactly that value; otherwise it leaves
// the receiver untouched and returns false, and the full path decides.
type fastDecoder interface {
	decodeFast(data []byte) bool
}

// bodyBufs recycles the buffers request bodies are read into; nothing decoded keeps a
// reference to one (encoding/json and checkKeys copy what they keep).
var bodyBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledBody is the largest buffer put back in bodyBufs, so that one large body does not
// pin its buffer for the life of the process.
const maxPooledBody = 4 << 10

func putBodyBuf(buf *bytes.Buffer) {
	if buf.Cap() > maxPooledBody {
		return
	}
	buf.Reset()
	bodyBufs.Put(buf)
}

type bodyRule int

const (
	bodyRequired bodyRule = iota
	bodyOptional
)

func tooLarge() error {
	return apierror.New(apierror.CodeTooLarge, "The request body is larger than %d bytes.", MaxBodyBytes)
}

// describeJSONError turns encoding/json's errors into a short phrase without echoing the body.
func describeJSONError(err error) string {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return fmt.Sprintf("syntax error at byte %d", syntax.Offset)
	case errors.As(err, &typ):
		return fmt.Sprintf("field %q must be a %s", typ.Field, typ.Type.Kind())
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "it ends early"
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name, uerr := strconv.Unquote(strings.TrimPrefix(err.Error(), "json: unknown field "))
		if uerr != nil {
			return "it has an unknown field"
		}
		return (&keyError{problem: "unknown", name: name}).Error()
	default:
		return "it must be a JSON object"
	}
}

// writeJSON sends v with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		// Nothing was sent yet: the client gets the 500 envelope, never an empty success.
		apierror.Write(w, fmt.Errorf("encode the answer: %w", err))
		return
	}
	writeJSONBytes(w, status, append(b, '\n'))
}

// writeJSONBytes sends body, a JSON document already encoded (ending in a newline, as writeJSON
// sends), with the given status and writeJSON's headers.
func writeJSONBytes(w http.ResponseWriter, status int, body []byte) {
	setJSONHeaders(w, status)
	_, _ = w.Write(body)
}

// jsonHeaders are the headers of every JSON answer, built once.
var (
	jsonContentType = []string{"application/json"}
	noStore         = []string{"no-store"}
)

func setJSONHeaders(w http.ResponseWriter, status int) {
	h := w.Header()
	h["Content-Type"] = jsonContentType
	h["Cache-Control"] = noStore
	w.WriteHeader(status)
}

// onlyParams refuses a query parameter of r not in names, and one given twice: a listing that
// ignored a misspelt parameter (?cursor= for ?after=) would answer its first page again, and a
// pager following it would never end.
func onlyParams(r *http.Request, names ...string) error {
	for k, v := range r.URL.Query() {
		switch {
		case !slices.Contains(names, k):
			taken := "no parameters"
			if len(names) > 0 {
				taken = "only " + strings.Join(names, ", ")
			}
			return apierror.New(apierror.CodeInvalidRequest, "Unknown query parameter %q: %s %s takes %s.", clipParam(k), r.Method, clipPath(r.URL.Path), taken)
		case len(v) > 1:
			return apierror.New(apierror.CodeInvalidRequest, "Query parameter %q is given %d times; give it once.", clipParam(k), len(v))
		}
	}
	return nil
}

// maxParamShown bounds a query parameter's name quoted in an answer.
const maxParamShown = 64

// clipParam is name cut to maxParamShown bytes, saying so.
func clipParam(name string) string {
	if len(name) <= maxParamShown {
		return name
	}
	return strings.ToValidUTF8(name[:maxParamShown], "") + "..."
}
