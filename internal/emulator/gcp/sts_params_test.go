package gcpemu

import (
	"encoding/json"
	"maps"
	"net/http"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/testutil/oidctest"
)

// postRaw posts body with contentType to the STS path plus query (which may be empty).
func postRaw(t *testing.T, f *fixture, req rawPost) (int, map[string]any) {
	t.Helper()
	resp, err := http.Post(f.srv.URL+"/v1/token"+req.query, req.contentType, strings.NewReader(req.body))
	if err != nil {
		t.Fatal(err)
	}
	return decode(t, resp)
}

// rawPost is one raw STS request.
type rawPost struct {
	query, contentType, body string
}

const formType = "application/x-www-form-urlencoded"

// TestSTSRequiresSubjectTokenType pins that subject_token_type is required: an exchange
// without it is refused 400 invalid_request naming the parameter, and no token is issued.
// Guards against: empty subject_token_type accepted in sts.go:serveSTS
func TestSTSRequiresSubjectTokenType(t *testing.T) {
	f := newFixture(t)
	form := stsForm(f.iss.Sign(t, oidctest.Token{Claims: claims("read")}))
	form.Del("subject_token_type")
	status, body := f.postSTS(t, form)
	desc, _ := body["error_description"].(string)
	if status != http.StatusBadRequest || body["error"] != "invalid_request" || !strings.Contains(desc, `"subject_token_type"`) {
		t.Fatalf("status %d body %v, want 400 invalid_request about subject_token_type", status, body)
	}
}

// TestSTSFormPayload pins how the form-encoded exchange is read: parameters travel in the
// body only (the same parameters in the URL query are not read), and a body that does not
// decode as a form, or that exceeds the 64 KiB cap, is refused 400 invalid_request rather
// than read in part.
// Guards against: r.Form (query included) read instead of r.PostForm in sts.go:parseSTSRequest
// Guards against: ParseForm error ignored in sts.go:parseSTSRequest
// Guards against: parse error not refused in sts.go:serveSTS
// Guards against: body cap dropped in emulator.go:ServeHTTP
func TestSTSFormPayload(t *testing.T) {
	f := newFixture(t)
	good := stsForm(f.iss.Sign(t, oidctest.Token{Claims: claims("read")})).Encode()
	for _, tc := range []struct {
		name string
		req  rawPost
		desc string
	}{
		{"parameters in the query only", rawPost{query: "?" + good, contentType: formType}, `"grant_type"`},
		{"bad percent escape", rawPost{contentType: formType, body: good + "&x=%zz"}, "Invalid request payload."},
		{"body over 64 KiB", rawPost{contentType: formType, body: good + "&pad=" + strings.Repeat("a", 64<<10)}, "Invalid request payload."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := postRaw(t, f, tc.req)
			desc, _ := body["error_description"].(string)
			if status != http.StatusBadRequest || body["error"] != "invalid_request" || !strings.Contains(desc, tc.desc) {
				t.Fatalf("status %d body %v, want 400 invalid_request containing %q", status, body, tc.desc)
			}
			if _, ok := body["access_token"]; ok {
				t.Fatal("refusal carries an access token")
			}
		})
	}
	// The good body alone is taken, so the refusals above come from what was changed.
	if status, body := postRaw(t, f, rawPost{contentType: formType, body: good}); status != http.StatusOK {
		t.Fatalf("good form: %d %v", status, body)
	}
}

// TestSTSJSONFields pins how a JSON exchange request's fields are read, as Google's front end
// reads them before STS does: a field ExchangeTokenRequest does not have (its fields are
// grantType, audience, scope, requestedTokenType, subjectToken, subjectTokenType and options,
// each also under its snake_case name; an actor token is not one of them) is refused 400
// invalid_request naming it, even when null, and so is a field whose value is not a string,
// without echoing the value, or one field given under both names; a null field is an absent
// one, and the camelCase names are taken.
// Guards against: unknown JSON fields ignored in sts.go:parseSTSRequest
func TestSTSJSONFields(t *testing.T) {
	f := newFixture(t)
	snake := map[string]any{}
	for k, v := range stsForm(f.iss.Sign(t, oidctest.Token{Claims: claims("read")})) {
		snake[k] = v[0]
	}
	camel := map[string]any{}
	for k, v := range snake {
		camel[map[string]string{"grant_type": "grantType", "requested_token_type": "requestedTokenType",
			"subject_token": "subjectToken", "subject_token_type": "subjectTokenType"}[k]] = v
		if k == "audience" || k == "scope" {
			camel[k] = v
		}
	}
	delete(camel, "")
	with := func(base map[string]any, k string, v any) map[string]any {
		out := maps.Clone(base)
		out[k] = v
		return out
	}
	for _, tc := range []struct {
		name string
		body map[string]any
		want string // the refusal's description holds it; "" for a token
	}{
		{"the snake_case names", snake, ""},
		{"the camelCase names", camel, ""},
		{"options, empty", with(snake, "options", ""), ""},
		{"a null field", with(snake, "options", nil), ""},
		{"an actor token type", with(snake, "actorTokenType", ""), `Unknown name "actorTokenType"`},
		{"an actor token, null", with(snake, "actor_token", nil), `Unknown name "actor_token"`},
		{"a field the request does not have", with(snake, "lifetime", "86400s"), `Unknown name "lifetime"`},
		{"a field in another case", with(snake, "Audience", "x"), `Unknown name "Audience"`},
		{"a number for a string", with(snake, "scope", 5), `"scope"`},
		{"an object for a string", with(snake, "options", map[string]any{"userProject": "p"}), `"options"`},
		{"a field under both names", with(snake, "grantType", snake["grant_type"]), `"grant_type" is given twice`},
		{"a token under both names, one null", with(snake, "subjectToken", nil), ""},
		{"a token type under both names", with(snake, "subjectTokenType", snake["subject_token_type"]), `"subject_token_type" is given twice`},
	} {
		raw, err := json.Marshal(tc.body)
		if err != nil {
			t.Fatal(err)
		}
		status, body := postRaw(t, f, rawPost{contentType: "application/json", body: string(raw)})
		desc, _ := body["error_description"].(string)
		switch {
		case tc.want == "" && status != http.StatusOK:
			t.Errorf("%s: %d %v, want a token", tc.name, status, body)
		case tc.want != "" && (status != http.StatusBadRequest || body["error"] != "invalid_request" || !strings.Contains(desc, tc.want)):
			t.Errorf("%s: %d %v, want 400 invalid_request naming %s", tc.name, status, body, tc.want)
		case strings.Contains(desc, "86400s") || strings.Contains(desc, "userProject"):
			t.Errorf("%s: the refusal echoes the value: %q", tc.name, desc)
		}
	}
}
