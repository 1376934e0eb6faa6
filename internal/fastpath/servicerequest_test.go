package fastpath

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"net/http"
	"net/textproto"
	"strings"
	"testing"
	"time"
)

// TestCanonicalNameIsTextprotos: every header name the fast path takes (a token) gets the
// name textproto gives it, the common names without a new string among them, in any case,
// with digits and symbols, and longer than the buffer canonicalized in place.
// Guards against: servicerequest.go:commonNames holding a name that is not its own canonical form
// Guards against: servicerequest.go:canonicalName upper-casing after another symbol than '-'
func TestCanonicalNameIsTextprotos(t *testing.T) {
	names := []string{"x-request-ID", "content-md5", "www-authenticate", "x_under", "a--b", "-x", "x-", "1a-2b",
		"!#$%&'*+-.^_`|~", strings.Repeat("ab-", 30)}
	for name := range commonNames {
		if got := textproto.CanonicalMIMEHeaderKey(name); got != name {
			t.Errorf("commonNames holds %q, whose canonical form is %q", name, got)
		}
		names = append(names, name, strings.ToLower(name), strings.ToUpper(name))
	}
	const token = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-.^_`|~"
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		b := make([]byte, 1+rng.IntN(2*maxCanonicalName))
		for i := range b {
			b[i] = token[rng.IntN(len(token))]
		}
		names = append(names, string(b))
	}
	for _, name := range names {
		if !validName([]byte(name)) {
			t.Fatalf("test name %q is not a token", name)
		}
		if got, want := canonicalName([]byte(name)), textproto.CanonicalMIMEHeaderKey(name); got != want {
			t.Errorf("canonicalName(%q) = %q, textproto's %q", name, got, want)
		}
	}
}

// bodyKeeper is a Service for one connection that keeps each request's body, unread, and
// at the next request reads the body it kept and sends what it got to read.
type bodyKeeper struct {
	kept io.Reader
	read chan string
}

func (k *bodyKeeper) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if k.kept != nil {
		b, _ := io.ReadAll(k.kept)
		k.read <- string(b)
	}
	k.kept = r.Body
	_, _ = io.WriteString(w, "kept")
}

// TestKeptBodyReadsNothingAfterTheAnswer: a handler that keeps a request's body past its
// answer reads nothing from it, not the bytes the connection holds by then (the next
// request's), as net/http's body refuses reads once the handler returned.
// Guards against: servicerequest.go's body left pointing into the connection's buffer after the answer
func TestKeptBodyReadsNothingAfterTheAnswer(t *testing.T) {
	keeper := &bodyKeeper{read: make(chan string, 1)}
	hs := start(t, Config{Service: keeper, Posts: []string{"/token"}, ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 5 * time.Second})
	cl := hs.dial(t)
	for _, body := range []string{"secret", "second"} {
		cl.send("POST /token HTTP/1.1\r\nHost: h\r\nContent-Length: 6\r\n\r\n" + body)
		if _, status, answer := cl.read("POST"); status != http.StatusOK || answer != "kept" {
			t.Fatalf("answer %d %q", status, answer)
		}
	}
	if got := <-keeper.read; got != "" {
		t.Errorf("the first request's body, kept, read %q at the second request; want nothing", got)
	}
}

// tokenHead is the head of a token request as the load driver and Go's HTTP client send it.
const tokenHead = "POST /v1/token HTTP/1.1\r\nHost: 127.0.0.1:40123\r\nUser-Agent: Go-http-client/1.1\r\n" +
	"Content-Length: 32\r\nAuthorization: Bearer brk_run_0123456789abcdefghijklmnopqrstuv\r\n" +
	"Content-Type: application/json\r\nAccept-Encoding: gzip\r\n\r\n{\"audience\":\"sts.amazonaws.com\"}"

// BenchmarkServiceRequest is what the Service's http.Request of a token request costs: built
// from the head parse read, and as http.ReadRequest reads the same bytes (before 2026-12-08).
func BenchmarkServiceRequest(b *testing.B) {
	raw := []byte(tokenHead)
	var req Request
	if !parse(raw[:headEnd(raw)], &req, []string{"/v1/token"}) {
		b.Fatal("parse refused the token request")
	}
	b.Run("built", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			body := new(serviceBody)
			r, err := newServiceRequest(context.Background(), raw, &req, body)
			if err != nil || r.Header.Get("Authorization") == "" {
				b.Fatal(err)
			}
		}
	})
	b.Run("http.ReadRequest", func(b *testing.B) {
		b.ReportAllocs()
		br := bufio.NewReaderSize(nil, bufferSize)
		for b.Loop() {
			br.Reset(bytes.NewReader(raw))
			r, err := http.ReadRequest(br)
			if err != nil || r.Header.Get("Authorization") == "" {
				b.Fatal(err)
			}
			_ = r.WithContext(context.Background())
		}
	})
}
