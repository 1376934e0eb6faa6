package api

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/apierror"
)

// paddedBody is a valid create-run body padded with trailing JSON white space to exactly n bytes.
func paddedBody(n int) string {
	b := `{"stack":"a"}`
	return b + strings.Repeat(" ", n-len(b))
}

// TestBodyCapBoundary pins the 64 KiB cap: a body of exactly MaxBodyBytes is read, one byte more is
// 413 too_large, whether the length is declared (Content-Length) or not (chunked).
// Guards against: body.go:26 r.ContentLength > MaxBodyBytes -> >=
// Guards against: body.go:31 MaxBytesReader(..., MaxBodyBytes) -> MaxBodyBytes+1
// Guards against: body.go:34 a MaxBytesError answered as invalid_request instead of too_large
func TestBodyCapBoundary(t *testing.T) {
	for _, tc := range []struct {
		name     string
		size     int
		declared bool
		tooLarge bool
	}{
		{"exactly the cap, declared", MaxBodyBytes, true, false},
		{"exactly the cap, chunked", MaxBodyBytes, false, false},
		{"one over, declared", MaxBodyBytes + 1, true, true},
		{"one over, chunked", MaxBodyBytes + 1, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := paddedBody(tc.size)
			r := &http.Request{Body: io.NopCloser(strings.NewReader(body)), ContentLength: -1}
			if tc.declared {
				r.ContentLength = int64(len(body))
			}
			var req createRunRequest
			err := decodeBody(r, &req, bodyRequired)
			if !tc.tooLarge {
				if err != nil {
					t.Fatalf("a body of %d bytes was refused: %v", tc.size, err)
				}
				return
			}
			var ae *apierror.Error
			if !errors.As(err, &ae) || ae.Code != apierror.CodeTooLarge || ae.Status() != http.StatusRequestEntityTooLarge {
				t.Fatalf("a body of %d bytes: got %v, want too_large (413)", tc.size, err)
			}
		})
	}
}

// TestWriteJSONNoStore pins that every JSON answer (tokens, run tokens, credentials) is sent with
// Cache-Control: no-store and Content-Type: application/json.
// Guards against: body.go:162 h["Cache-Control"] = noStore dropped
func TestWriteJSONNoStore(t *testing.T) {
	for name, write := range map[string]func(http.ResponseWriter){
		"writeJSON":      func(w http.ResponseWriter) { writeJSON(w, http.StatusCreated, map[string]string{"runToken": "x"}) },
		"writeJSONBytes": func(w http.ResponseWriter) { writeJSONBytes(w, http.StatusOK, []byte("{}\n")) },
	} {
		rec := httptest.NewRecorder()
		write(rec)
		if got := rec.Header().Get("Cache-Control"); got != "no-store" {
			t.Errorf("%s: Cache-Control %q, want no-store", name, got)
		}
		if got := rec.Header().Get("Content-Type"); got != "application/json" {
			t.Errorf("%s: Content-Type %q, want application/json", name, got)
		}
	}
}

// TestWriteJSONOfWhatCannotBeEncoded: a value encoding/json refuses (a time whose year has no RFC
// 3339 form, as a token's expiry on a broken clock would have) gets the 500 envelope, not a 200
// whose body is empty or cut short: a client must not take an empty answer for a success.
// Guards against: writeJSON sending its status before it knows the value encodes
func TestWriteJSONOfWhatCannotBeEncoded(t *testing.T) {
	rec := httptest.NewRecorder()
	writeJSON(rec, http.StatusOK, tokenResponse{Token: "x", ExpiresAt: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)})
	if rec.Code != http.StatusInternalServerError || !strings.Contains(rec.Body.String(), `"internal"`) {
		t.Errorf("an unencodable answer: %d %q, want the 500 envelope", rec.Code, rec.Body)
	}
	rec = httptest.NewRecorder()
	writeJSON(rec, http.StatusCreated, map[string]string{"a": "<b>"})
	if rec.Code != http.StatusCreated || rec.Body.String() != "{\"a\":\"\\u003cb\\u003e\"}\n" {
		t.Errorf("writeJSON: %d %q, want 201 and encoding/json's Encoder bytes", rec.Code, rec.Body)
	}
}

// TestOnlyParamsRefusesRepeatsAndUnknowns pins that a query parameter given twice or more, or one
// the endpoint does not take (a pager using ?cursor= for ?after= would loop forever otherwise),
// is refused as invalid_request, and known ones given once are accepted.
// Guards against: body.go:178 len(v) > 1 -> len(v) > 2
// Guards against: body.go:172 case !slices.Contains(names, k) never taken
func TestOnlyParamsRefusesRepeatsAndUnknowns(t *testing.T) {
	for _, tc := range []struct {
		query string
		want  string // what the refusal says; "" when accepted
	}{
		{"limit=1", ""},
		{"space=root&after=c&limit=5", ""},
		{"limit=1&limit=2", "give it once"},
		{"limit=1&limit=2&limit=3", "give it once"},
		{"after=a&after=a", "give it once"},
		{"cursor=c", "Unknown query parameter"},
		{"Limit=5", "Unknown query parameter"},
	} {
		r := &http.Request{Method: http.MethodGet, URL: &url.URL{Path: "/v1/audit", RawQuery: tc.query}}
		err := onlyParams(r, "space", "after", "limit")
		if tc.want == "" {
			if err != nil {
				t.Errorf("?%s refused: %v", tc.query, err)
			}
			continue
		}
		var ae *apierror.Error
		if !errors.As(err, &ae) || ae.Code != apierror.CodeInvalidRequest || !strings.Contains(ae.Message, tc.want) {
			t.Errorf("?%s: got %v, want invalid_request saying %q", tc.query, err, tc.want)
		}
	}
}

// mapOfStructsBody has a map whose values are structs: their keys are checked like any struct's.
type mapOfStructsBody struct {
	Modes map[string]innerBody `json:"modes"`
}

// TestCheckKeysMapOfStructs pins that checkKeys follows a map's values into the struct they decode
// to: a case-variant or duplicate key there is refused, exact keys are accepted.
// Guards against: strictkeys.go:117 elem = elemType(t) dropped (map values scanned as taking any
// keys)
func TestCheckKeysMapOfStructs(t *testing.T) {
	for _, tc := range []struct{ body, want string }{
		{`{"modes":{"a":{"mode":"x"},"b":{"mode":"y"}}}`, ""},
		{`{"modes":{"a":{"MODE":"x"}}}`, `unknown field "MODE"`},
		{`{"modes":{"a":{"mode":"x","mode":"y"}}}`, `duplicate field "mode"`},
	} {
		err := decodeString(tc.body, &mapOfStructsBody{})
		if tc.want == "" {
			if err != nil {
				t.Errorf("%s refused: %v", tc.body, err)
			}
			continue
		}
		var ae *apierror.Error
		if !errors.As(err, &ae) || ae.Code != apierror.CodeInvalidRequest || !strings.Contains(ae.Message, tc.want) {
			t.Errorf("%s: got %v, want invalid_request saying %s", tc.body, err, tc.want)
		}
	}
}

// TestKeyErrorRedactsLogins pins that a refused key holding a URL with a login never repeats the
// password in the answer, also when the key is longer than the quoted part and the "@" falls past
// the cut.
// Guards against: strictkeys.go:29 config.RedactLogins(e.name) dropped
// Guards against: strictkeys.go:29-32 the cut made before the redaction
func TestKeyErrorRedactsLogins(t *testing.T) {
	const password = "hunter2-s3cr3t"
	for _, tc := range []struct{ name, body string }{
		{"unknown, short", `{"stack":"a","https://admin:` + password + `@vault.example/":1}`},
		{"unknown, @ past the cut", `{"https://admin:` + password + strings.Repeat("x", 80) + `@vault.example/":1}`},
		{"duplicate map key", `{"labels":{"https://admin:` + password + `@h/":"1","https://admin:` + password + `@h/":"2"}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var dst any = &createRunRequest{}
			if strings.Contains(tc.body, "labels") {
				dst = &nestedBody{}
			}
			err := decodeString(tc.body, dst)
			var ae *apierror.Error
			if !errors.As(err, &ae) || ae.Code != apierror.CodeInvalidRequest {
				t.Fatalf("got %v, want invalid_request", err)
			}
			if strings.Contains(ae.Message, "hunter2") || strings.Contains(ae.Message, "s3cr3t") {
				t.Errorf("the answer repeats the password: %q", ae.Message)
			}
			if !strings.Contains(ae.Message, "REDACTED") {
				t.Errorf("the answer does not show the login redacted: %q", ae.Message)
			}
		})
	}
}
