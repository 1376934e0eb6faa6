package access_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/access"
)

func TestBearerToken(t *testing.T) {
	tests := []struct {
		name    string
		values  []string // Authorization header values; nil means absent
		want    string
		wantErr string // substring of the error; "" means success
	}{
		{"bearer", []string{"Bearer abc.def-ghi_jkl"}, "abc.def-ghi_jkl", ""},
		{"lower-case scheme", []string{"bearer xyzzy"}, "xyzzy", ""},
		{"upper-case scheme", []string{"BEARER xyzzy"}, "xyzzy", ""},
		{"padding kept", []string{"Bearer dG9r=="}, "dG9r==", ""},
		{"missing", nil, "", "missing"},
		{"empty header", []string{""}, "", "Bearer scheme"},
		{"two headers", []string{"Bearer a", "Bearer b"}, "", "more than one"},
		{"basic scheme", []string{"Basic dXNlcjpwYXNz"}, "", "Bearer scheme"},
		{"scheme only", []string{"Bearer"}, "", "no bearer token"},
		{"scheme and space", []string{"Bearer "}, "", "no bearer token"},
		{"no space", []string{"Bearerxyzzy"}, "", "Bearer scheme"},
		{"two tokens", []string{"Bearer a b"}, "", "exactly one"},
		{"two spaces", []string{"Bearer  xyzzy"}, "", "exactly one"},
		{"tab separator", []string{"Bearer\txyzzy"}, "", "Bearer scheme"},
		{"trailing tab", []string{"Bearer xyzzy\t"}, "", "exactly one"},
		{"control character", []string{"Bearer xy\x00zzy"}, "", "exactly one"},
		{"DEL inside", []string{"Bearer abc\x7fdef"}, "", "exactly one"},
		{"DEL alone", []string{"Bearer \x7f"}, "", "exactly one"},
		{"DEL at the end", []string{"Bearer abcdef\x7f"}, "", "exactly one"},
		{"no-break space inside", []string{"Bearer abc\u00a0def"}, "", "exactly one"},
		{"next-line character at the end", []string{"Bearer abcdef\u0085"}, "", "exactly one"},
		{"invalid UTF-8", []string{"Bearer abc\xffdef"}, "", "exactly one"},
		{"visible ASCII edges", []string{"Bearer !~"}, "!~", ""},
		{"token only", []string{"xyzzy"}, "", "Bearer scheme"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for _, v := range tt.values {
				h.Add("Authorization", v)
			}
			got, err := access.BearerToken(h)
			if tt.wantErr == "" {
				if err != nil || got != tt.want {
					t.Errorf("BearerToken = %q, %v; want %q", got, err, tt.want)
				}
				return
			}
			if !errors.Is(err, access.ErrUnauthenticated) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("BearerToken = %q, %v; want ErrUnauthenticated mentioning %q", got, err, tt.wantErr)
			}
			if got != "" {
				t.Errorf("BearerToken returned %q alongside an error", got)
			}
			for _, v := range tt.values {
				if _, cred, ok := strings.Cut(v, " "); ok && len(strings.TrimSpace(cred)) >= 4 && strings.Contains(err.Error(), strings.TrimSpace(cred)) {
					t.Errorf("error %q repeats the credential", err)
				}
			}
		})
	}
}
