package exchange

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"
)

func TestRetryOnlyThrottlingAnd5xx(t *testing.T) {
	cases := []struct {
		name     string
		statuses []int // answers in order; the last repeats
		wantCode int
		wantHits int32
	}{
		{"ok at once", []int{200}, 200, 1},
		{"503 then ok", []int{503, 200}, 200, 2},
		{"429 twice then ok", []int{429, 429, 200}, 200, 3},
		{"5xx until attempts run out", []int{500}, 500, 3},
		{"403 is never retried", []int{403}, 403, 1},
		{"400 is never retried", []int{400}, 400, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var hits atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				if string(body) != "payload" {
					t.Errorf("attempt %d got body %q: not replayed", hits.Load()+1, body)
				}
				n := int(hits.Add(1)) - 1
				w.WriteHeader(tc.statuses[min(n, len(tc.statuses)-1)])
				io.WriteString(w, "answer")
			}))
			defer srv.Close()
			client := NewHTTPClient(ClientOptions{Backoff: time.Millisecond})
			req, _ := http.NewRequest("POST", srv.URL, strings.NewReader("payload"))
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.wantCode || string(body) != "answer" {
				t.Errorf("got %d %q, want %d", resp.StatusCode, body, tc.wantCode)
			}
			if hits.Load() != tc.wantHits {
				t.Errorf("%d attempts, want %d", hits.Load(), tc.wantHits)
			}
		})
	}
}

func TestRetryStopsAtDeadline(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(503)
	}))
	defer srv.Close()
	client := NewHTTPClient(ClientOptions{Backoff: 10 * time.Second, MaxAttempts: 5})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL, nil)
	began := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 503 || time.Since(began) > 5*time.Second {
		t.Errorf("got %d after %v: should hand back the last answer when the deadline ends the backoff", resp.StatusCode, time.Since(began))
	}
}

func TestResponseBodyCapped(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(strings.Repeat("x", MaxResponseBytes+10)))
	}))
	defer srv.Close()
	_, err := NewHTTPClient(ClientOptions{}).Get(srv.URL)
	if !errors.Is(err, ErrResponseTooLarge) {
		t.Errorf("err = %v, want ErrResponseTooLarge", err)
	}
}

func TestScrub(t *testing.T) {
	jwt := "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
	cases := []struct{ in, secret, want string }{
		{"token " + jwt + " is invalid", "", "token [redacted-jwt] is invalid"},
		{"bad secret hunter2hunter2 here", "hunter2hunter2", "bad secret [redacted] here"},
		{"multi\nline   message", "", "multi line message"},
		// Control characters an upstream put in its message show as U+FFFD.
		{"denied\x1b[1A\x1b[2K\x07 \u009b2J\b", "", "denied\ufffd[1A\ufffd[2K\ufffd \ufffd2J\ufffd"},
		{"short ab", "ab", "short ab"}, // too short to be a secret worth matching
		// Values under names that say they are secrets, as an SDK's error quotes a process's
		// output or a credentials file, and Vault tokens wherever they are.
		{`parse failed: {"AccessKeyId": "AKIAEXAMPLE", "SecretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCY+EXAMPLEKEY", "SessionToken": "FwoGZXIvYXdzEXAMPLE0123456789"}`, "",
			`parse failed: {"AccessKeyId": "AKIAEXAMPLE", "SecretAccessKey": "[redacted]", "SessionToken": "[redacted]"}`},
		// The same JSON quoted once more (an error formatting a process's output with %q), or
		// written with single quotes (a dictionary printed by a script).
		{`output "{\"SessionToken\": \"FwoGZXIvYXdzEXAMPLE0123456789\"}" is not valid`, "",
			`output "{\"SessionToken\": \"[redacted]\"}" is not valid`},
		{`output "{\\\"SessionToken\\\":\\\"FwoGZXIvYXdzEXAMPLE0123456789\\\"}"`, "",
			`output "{\\\"SessionToken\\\":\\\"[redacted]\\\"}"`},
		{`{'SecretAccessKey': 'wJalrXUtnFEMI/K7MDENG/bPxRfiCY+EXAMPLEKEY'}`, "", `{'SecretAccessKey': '[redacted]'}`},
		{"aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCY+EXAMPLEKEY", "", "aws_secret_access_key=[redacted]"},
		{"client_secret=abcdefghijklmnop0123&scope=x", "", "client_secret=[redacted]&scope=x"},
		{"X-Vault-Token: hvs.CAESIENzUQY5abcdefghijklmnop", "", "X-Vault-Token: [redacted]"},
		{"login with hvb.AAAAAQJabcdefghijklmnopqrstuv failed", "", "login with [redacted] failed"},
		{"<Credentials><SessionToken>IQoJb3JpZ2luX2VjEXAMPLE</SessionToken></Credentials>", "", "<Credentials><SessionToken>[redacted]</SessionToken></Credentials>"},
		// A login in a URL, as a proxy's or a server's address quoted by a client library.
		{"proxyconnect tcp: dial http://ci:Pr0xyPassw0rd@proxy.example.com:3128 failed", "", "proxyconnect tcp: dial http://REDACTED@proxy.example.com:3128 failed"},
		{"proxy http://ci:p@ss@proxy.example.com:3128/x failed", "", "proxy http://REDACTED@proxy.example.com:3128/x failed"},
		{"socks connect tcp socks5://ci:Pr0xyPassw0rd@proxy.example.com:1080: refused", "", "socks connect tcp socks5://REDACTED@proxy.example.com:1080: refused"},
		{"dial redis://default:Pr0xyPassw0rd@cache:6379 failed", "", "dial redis://REDACTED@cache:6379 failed"},
		// An '@' in a path, or an account's email, is no login.
		{`Post "https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/deployer@proj.iam.gserviceaccount.com:generateAccessToken": EOF`, "",
			`Post "https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/deployer@proj.iam.gserviceaccount.com:generateAccessToken": EOF`},
		{"member serviceAccount:deployer@proj.iam.gserviceaccount.com lacks the role", "", "member serviceAccount:deployer@proj.iam.gserviceaccount.com lacks the role"},
		// Words after such names, and names with short values, stay.
		{"error validating token: invalid subject (sub) claim", "", "error validating token: invalid subject (sub) claim"},
		{"token_url: https://sts.googleapis.com/v1/token", "", "token_url: https://sts.googleapis.com/v1/token"},
		{"The security token included in the request is invalid", "", "The security token included in the request is invalid"},
	}
	for _, tc := range cases {
		if got := Scrub(tc.in, tc.secret); got != tc.want {
			t.Errorf("Scrub(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if got := Scrub(strings.Repeat("a", 5000)); len(got) > maxMessage+4 {
		t.Errorf("not capped: %d", len(got))
	}
	// The cap falls on the start of a character, so the capped message stays valid UTF-8.
	long := strings.Repeat("a", maxMessage-1) + strings.Repeat("é", 10)
	if got := Scrub(long); !utf8.ValidString(got) || got != strings.Repeat("a", maxMessage-1)+"…" {
		t.Errorf("Scrub of %d bytes ends %q, want the a's and an ellipsis", len(long), got[len(got)-8:])
	}
	e := Upstream("aws", UpstreamAnswer{Status: 403, Code: "AccessDenied", Message: "denied for " + jwt}, jwt)
	if strings.Contains(e.Error(), jwt) || !strings.Contains(e.Error(), "aws answered 403 AccessDenied: denied for") {
		t.Errorf("UpstreamError = %q", e.Error())
	}
}
