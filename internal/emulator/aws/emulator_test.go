package awsemu

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestProtocol(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name   string
		do     func(t *testing.T) (int, []byte)
		status int
		code   string
	}{
		{
			name: "unknown action",
			do: func(t *testing.T) (int, []byte) {
				return f.post(t, url.Values{"Action": {"GetFederationToken"}, "Version": {APIVersion}})
			},
			status: http.StatusBadRequest, code: "InvalidAction",
		},
		{
			name: "wrong version",
			do: func(t *testing.T) (int, []byte) {
				p := webIdentity(f.token(t, nil))
				p.Set("Version", "2010-01-01")
				return f.post(t, p)
			},
			status: http.StatusBadRequest, code: "InvalidAction",
		},
		{
			name:   "missing action",
			do:     func(t *testing.T) (int, []byte) { return f.post(t, url.Values{"Version": {APIVersion}}) },
			status: http.StatusBadRequest, code: "MissingAction",
		},
		{
			name: "GET query accepted",
			do: func(t *testing.T) (int, []byte) {
				resp, err := http.Get(f.srv.URL + "/?" + webIdentity(f.token(t, nil)).Encode())
				if err != nil {
					t.Fatal(err)
				}
				return readResponse(t, resp)
			},
			status: http.StatusOK,
		},
		{
			name: "other path",
			do: func(t *testing.T) (int, []byte) {
				resp, err := http.Post(f.srv.URL+"/v1/token", "application/x-www-form-urlencoded",
					strings.NewReader(webIdentity(f.token(t, nil)).Encode()))
				if err != nil {
					t.Fatal(err)
				}
				return readResponse(t, resp)
			},
			status: http.StatusNotFound, code: "UnknownOperationException",
		},
		{
			name: "other method",
			do: func(t *testing.T) (int, []byte) {
				req, _ := http.NewRequest(http.MethodPut, f.srv.URL+"/", nil)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				return readResponse(t, resp)
			},
			status: http.StatusMethodNotAllowed, code: "InvalidAction",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body := tc.do(t)
			if status != tc.status {
				t.Fatalf("status = %d, want %d: %s", status, tc.status, body)
			}
			if tc.code != "" {
				if e := decodeError(t, body); e.Error.Code != tc.code {
					t.Errorf("code = %q, want %q", e.Error.Code, tc.code)
				}
			}
		})
	}
}

func TestFailNext(t *testing.T) {
	f := newFixture(t)
	f.emu.FailNext(2, http.StatusServiceUnavailable, "ServiceUnavailable")
	for i := range 2 {
		status, body := f.post(t, webIdentity(f.token(t, nil)))
		if status != http.StatusServiceUnavailable {
			t.Fatalf("request %d: status = %d", i, status)
		}
		if e := decodeError(t, body); e.Error.Code != "ServiceUnavailable" || e.Error.Type != "Receiver" {
			t.Errorf("request %d: error = %+v", i, e.Error)
		}
	}
	if status, body := f.post(t, webIdentity(f.token(t, nil))); status != http.StatusOK {
		t.Fatalf("third request: status = %d: %s", status, body)
	}

	f.emu.FailNext(1, http.StatusBadRequest, "Throttling")
	status, body := f.post(t, url.Values{"Action": {"NoSuchAction"}}) // injected before any validation
	if e := decodeError(t, body); status != http.StatusBadRequest || e.Error.Code != "Throttling" || e.Error.Type != "Sender" {
		t.Errorf("throttled: %d %+v", status, e.Error)
	}

	var outcomes []string
	for _, c := range f.emu.Calls() {
		outcomes = append(outcomes, c.Outcome)
	}
	if got := strings.Join(outcomes, ","); got != "ServiceUnavailable,ServiceUnavailable,ok,Throttling" {
		t.Errorf("outcomes = %s", got)
	}
}

func TestCallsIsACopy(t *testing.T) {
	f := newFixture(t)
	tags := map[string]any{"principal_tags": map[string]any{"k": []any{"v"}}}
	f.post(t, webIdentity(f.token(t, map[string]any{TagsClaim: tags})))
	f.emu.Calls()[0].SessionTags["k"] = "changed"
	if got := f.emu.Calls()[0].SessionTags["k"]; got != "v" {
		t.Errorf("Calls shares its maps: %q", got)
	}
}

func TestMatchSubject(t *testing.T) {
	tests := []struct {
		pattern, sub string
		want         bool
	}{
		{"", "anything", true},
		{"a:b", "a:b", true},
		{"a:b", "a:bc", false},
		{"a?b", "axb", false}, // no '*': StringEquals, '?' is literal
		{"a?b", "a?b", true},
		{"space:*:scope:read", "space:root:stack:x:scope:read", true},
		{"space:*:scope:read", "space:root:stack:x:scope:write", false},
		{"*", "", true},
		{"a*b*c", "abc", true},
		{"a*b*c", "aXbYbZc", true},
		{"a*b?c", "aXbYc", true},
		{"a*b?c", "aXbc", false},
		{"*x", strings.Repeat("a", 5000), false},
	}
	for _, tc := range tests {
		if got := matchSubject(tc.pattern, tc.sub); got != tc.want {
			t.Errorf("matchSubject(%q, %q) = %v, want %v", tc.pattern, tc.sub, got, tc.want)
		}
	}
}
