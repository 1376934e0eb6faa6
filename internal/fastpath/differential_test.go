package fastpath

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// docHandler is net/http's side of the differential test: GET and HEAD of /doc get "doc", any
// other request its method, target and body.
func docHandler(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/doc" && (r.Method == "GET" || r.Method == "HEAD") {
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("Content-Length", "3")
		_, _ = io.WriteString(w, "doc")
		return
	}
	body, _ := io.ReadAll(r.Body)
	if strings.Contains(r.URL.Path, "echo") {
		echo(w, r, body)
		return
	}
	_, _ = io.WriteString(w, r.Method+" "+r.RequestURI+" "+string(body))
}

// echo answers with what the handler was given of r (all but the client's port), and sets
// header fields the answer must carry as net/http writes them.
func echo(w http.ResponseWriter, r *http.Request, body []byte) {
	_, local := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	h := w.Header()
	h.Set("X-Echo", "a\r\nb")
	h["x-lower"] = []string{"kept"}
	h.Add("X-Two", "1")
	h.Add("X-Two", "2")
	if r.Header.Get("X-Status") == "204" {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s %s %d.%d %#v host=%q length=%d close=%v te=%q trailer=%v local=%v remote=%v\n",
		r.Method, r.RequestURI, r.Proto, r.ProtoMajor, r.ProtoMinor, *r.URL, r.Host, r.ContentLength, r.Close,
		r.TransferEncoding, r.Trailer, local, r.RemoteAddr != "")
	fmt.Fprintf(&b, "nobody=%v form=%v postform=%v multipart=%v tls=%v getbody=%v response=%v cancel=%v\n",
		r.Body == http.NoBody, r.Form, r.PostForm, r.MultipartForm, r.TLS, r.GetBody != nil, r.Response, r.Cancel)
	fmt.Fprintf(&b, "header=%q\n", sortedHeader(r.Header))
	b.WriteString("body=" + string(body))
	_, _ = io.WriteString(w, b.String())
}

// sortedHeader is h's fields, each name with its values in order, sorted by name.
func sortedHeader(h http.Header) []string {
	fields := make([]string, 0, len(h))
	for name, values := range h {
		fields = append(fields, fmt.Sprintf("%s=%q", name, values))
	}
	slices.Sort(fields)
	return fields
}

// docFast is the fast path's side: the same answer to GET and HEAD of /doc, in the order
// net/http writes its headers (sorted, then Date).
type docFast struct{}

func (docFast) Answer(dst []byte, req *Request) ([]byte, bool) {
	if string(req.Path) != "/doc" {
		return dst, false
	}
	dst = AppendStatusLine(dst, http.StatusOK)
	dst = append(dst, "Content-Length: 3\r\nContent-Type: text/plain\r\n"...)
	dst = AppendDate(dst, time.Now())
	dst = append(dst, "\r\n"...)
	if !req.Head {
		dst = append(dst, "doc"...)
	}
	return dst, true
}

// dateHeader matches a Date header line, the one part of two answers that may differ.
var dateHeader = regexp.MustCompile("Date: [^\r]*\r\n")

// exchange sends raw on a new connection to addr, closes its writing side and returns every
// byte the server wrote until it closed, Date lines blanked.
func exchange(t *testing.T, addr string, raw []byte) string { return exchangeIn(t, addr, raw, 0) }

// exchangeIn is exchange sending raw in writes of chunk bytes a millisecond apart, so that the
// server reads them apart (0 is one write).
func exchangeIn(t *testing.T, addr string, raw []byte, chunk int) string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if chunk <= 0 {
		chunk = max(len(raw), 1)
	}
	for rest := raw; len(rest) > 0; {
		n := min(chunk, len(rest))
		if _, err := c.Write(rest[:n]); err != nil {
			break // the server closed after an answer; what it wrote is still read below
		}
		if rest = rest[n:]; len(rest) > 0 {
			time.Sleep(time.Millisecond)
		}
	}
	_ = c.(*net.TCPConn).CloseWrite()
	out, err := io.ReadAll(c)
	if err != nil {
		// A reset after the answers (net/http closing with unread bytes) ends the stream.
		var ne net.Error
		if !errors.As(err, &ne) {
			t.Fatalf("read: %v", err)
		}
	}
	return dateHeader.ReplaceAllString(string(out), "Date: *\r\n")
}

// differentialSeeds are request streams of each kind the fast path answers or hands over.
var differentialSeeds = []string{
	"GET /doc HTTP/1.1\r\nHost: h\r\n\r\n",
	"HEAD /doc HTTP/1.1\r\nHost: h\r\n\r\nGET /doc HTTP/1.1\r\nHost: h\r\n\r\n",
	"GET /doc HTTP/1.1\r\nHost: h\r\n\r\nPOST /doc HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nhiGET /doc HTTP/1.1\r\nHost: h\r\n\r\n",
	"GET /doc HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabcGET /doc HTTP/1.1\r\nHost: h\r\n\r\n",
	"GET /doc HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
	"GET /doc HTTP/1.1\r\nHost: h\r\n\r\nGET /doc HTTP/1.1\r\nHo",
	"GET /doc HTTP/1.1\nHost: h\n\n",
	"GET /doc HTTP/1.1\r\nHost: h\r\n\n",
	"GET /doc HTTP/1.0\r\n\r\n",
	"GET /doc HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
	"GET /doc HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n",
	"GET /doc?q HTTP/1.1\r\nHost: h\r\n\r\n",
	"GET /do%63 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
	"\r\nGET /doc HTTP/1.1\r\nHost: h\r\n\r\n",
	"BREW /doc HTCPCP/1.0\r\n\r\n",
	"POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Type: application/json\r\nAuthorization: Bearer x\r\n\r\n{\"a\"}",
	"POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\nPOST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\nX: 1\r\nX: 2\r\n\r\nhiGET /doc HTTP/1.1\r\nHost: h\r\n\r\n",
	"POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nab",
	"POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabcdPOST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\r\n",
	"POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nhi",
	"POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
	"POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
	"POST /echo HTTP/1.1\r\nHost: h\r\n\r\nGET /doc HTTP/1.1\r\nHost: h\r\n\r\n",
	"POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 0005\r\n\r\nhello",
	"POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: +5\r\n\r\nhello",
	"POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length:  5 \r\n\r\nhello",
	"POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 5, 5\r\n\r\nhello",
	"POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 99999\r\n\r\nhello",
	"POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\nhello",
	"POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
	"POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nPragma: no-cache\r\nX-Status: 204\r\n\r\nhello",
	"POST /echo HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello",
	"POST /echo?q=1 HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello",
	"POST /echo HTTP/1.0\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello",
	"POST /doc HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello",
	"GET /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello",
	"POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nX-Request-Id: a\r\nX-Request-Id: b\r\n\r\nhello",
	"POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nCookie: a=1\r\nUser-Agent: t\r\nAccept-Encoding: gzip\r\n\r\n\xff\x00\x01\x02\x03",
	"GET /echo HTTP/1.1\r\nHost: h\r\nUser-Agent: kube-probe/1.31\r\nAccept: */*\r\n\r\n",
	"GET /echo HTTP/1.1\r\nHost: h\r\nX-Request-Id: r1\r\n\r\nGET /doc HTTP/1.1\r\nHost: h\r\n\r\nGET /echo HTTP/1.1\r\nHost: h\r\nX-Status: 204\r\n\r\nHEAD /echo HTTP/1.1\r\nHost: h\r\n\r\n",
	"GET /echo HTTP/1.1\r\nHost: h\r\nConnection: keep-alive\r\n\r\nPOST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nhiGET /echo HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
	"GET /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
	"GET /echo HTTP/1.1\r\nHost: h\r\nHost: i\r\n\r\n",
	"GET /echo?x=1 HTTP/1.1\r\nHost: h\r\n\r\n",
	"GET /echo HTTP/1.1\r\n\r\n",
	// The header as the Service gets it: names in any case, repeated fields, spaces and tabs
	// around values, empty values, Pragma, a Trailer field without a chunked body, long names.
	"POST /echo HTTP/1.1\r\nhost: h\r\ncontent-length: 2\r\ncontent-TYPE: a/b\r\nx-multi-word-NAME: v\r\nAUTHORIZATION: Bearer t\r\n\r\nhi",
	"POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\nA: 1\r\nB: x\r\na: 2\r\nA:3\r\nCookie: c=1\r\nCookie: d=2\r\n\r\nhi",
	"POST /echo HTTP/1.1\r\nHost:\th \t\r\nContent-Length:\t2\t\r\nX-Sp:  a  b  \r\nX-Tab:\tc\td\t\r\nX-Empty:\r\nX-Blank:   \r\n\r\nhi",
	"POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\nPragma: no-cache\r\n\r\nhi",
	"POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\nPragma: no-cache\r\nCache-Control: max-age=0\r\n\r\nhi",
	"POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\nPragma: x\r\nPragma: no-cache\r\n\r\nhi",
	"POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\nTrailer: X-T\r\n\r\nhi",
	"POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\nX-" + strings.Repeat("long-Name", 10) + ": v\r\n\r\n",
	"POST /echo HTTP/1.1\r\nHost: [::1]:8080\r\nContent-Length: 2\r\nX-Request-Id: r-1\r\nAccept: */*\r\nUser-Agent: Go-http-client/1.1\r\nAccept-Encoding: gzip\r\n\r\nhi",
	"POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\nx-forwarded-for: 10.0.0.1\r\nX_Under: u\r\n!#$%&'*+.^_`|~: odd\r\n\r\nhi",
	"GET /echo HTTP/1.1\r\nhost: h\r\nuser-agent: kube-probe/1.31\r\nx-a: 1\r\nX-A: 2\r\nPragma: no-cache\r\n\r\n",
	"GET /echo/../echo HTTP/1.1\r\nHost: h\r\n\r\nPOST /echo//x/./y HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\r\nz",
	// A target that starts with "//" is a path to net/http's server, not a host and a path.
	"POST //evil/echo HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nhiGET //evil/echo HTTP/1.1\r\nHost: h\r\n\r\n",
}

// echoPaths are the paths the differential fast path reads for its Service, POST and GET.
var echoPaths = []string{"/echo", "/echo/../echo", "/echo//x/./y", "/echo/~a_b-c.d", "//evil/echo"}

// differentialServers starts net/http alone and net/http behind the fast path, both serving
// docHandler (the fast path docFast, and docHandler for POSTs and GETs to /echo), and returns their
// addresses.
func differentialServers(tb testing.TB) (plain, fronted string) {
	tb.Helper()
	timeouts := func(cfg *http.Server) {
		cfg.ReadHeaderTimeout, cfg.IdleTimeout = 5*time.Second, 5*time.Second
	}
	plainLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	alone := &http.Server{Handler: http.HandlerFunc(docHandler)}
	timeouts(alone)
	go func() { _ = alone.Serve(plainLn) }()
	tb.Cleanup(func() { _ = alone.Close() })
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	behind := &http.Server{Handler: http.HandlerFunc(docHandler)}
	timeouts(behind)
	fast := Listen(inner, Config{Handler: docFast{}, Service: http.HandlerFunc(docHandler), Posts: echoPaths, Gets: echoPaths,
		ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 5 * time.Second})
	go func() { _ = behind.Serve(fast) }()
	tb.Cleanup(func() { _ = behind.Close() })
	return plainLn.Addr().String(), inner.Addr().String()
}

// TestSplitWritesAnswerAsNetHTTP: request streams that arrive in small pieces, so that heads
// and pipelined requests are split across reads (and across the fast path's hand-over), get
// the bytes net/http alone answers to the same pieces.
func TestSplitWritesAnswerAsNetHTTP(t *testing.T) {
	plain, fronted := differentialServers(t)
	for _, seed := range differentialSeeds {
		for _, chunk := range []int{1, 7, 31} {
			raw := []byte(seed)
			want := exchangeIn(t, plain, raw, chunk)
			if got := exchangeIn(t, fronted, raw, chunk); got != want {
				t.Errorf("for %q in writes of %d bytes\nbehind the fast path: %q\nnet/http alone:       %q", raw, chunk, got, want)
			}
		}
	}
}

// FuzzFastPathAnswersAsNetHTTP sends the same bytes to net/http alone and to net/http behind
// the fast path, and expects the same bytes back: every request the fast path answers, it
// answers as net/http does, and every other one reaches net/http intact.
func FuzzFastPathAnswersAsNetHTTP(f *testing.F) {
	for _, seed := range differentialSeeds {
		f.Add([]byte(seed))
	}
	plain, fronted := differentialServers(f)
	f.Fuzz(func(t *testing.T, raw []byte) {
		if len(raw) > 4096 {
			return
		}
		want := exchange(t, plain, raw)
		got := exchange(t, fronted, raw)
		if got != want {
			t.Fatalf("for %q\nbehind the fast path: %q\nnet/http alone:       %q", raw, got, want)
		}
	})
}
