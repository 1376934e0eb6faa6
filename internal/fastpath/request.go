package fastpath

import (
	"bytes"
	"net/http"
	"slices"
	"strings"
)

// Request is what the Handler learns of a request head the fast path understood. Its slices
// point into the connection's buffer and are valid only during Answer.
type Request struct {
	// Head is true for HEAD and false for GET.
	Head bool
	// Path is the request target: an absolute path of letters, digits and "-._~/", no query.
	Path []byte
	// IfNoneMatch is the If-None-Match value, nil when the request has none.
	IfNoneMatch []byte
	// RequestID is the X-Request-Id value, nil when the request has none.
	RequestID []byte

	// post is true for a POST to one of the listener's Posts, which goes to its Service with
	// the contentLength bytes of body after the head, never to the Handler.
	post          bool
	contentLength int
}

// method is the request's method: POST, HEAD or GET.
func (req *Request) method() string {
	switch {
	case req.post:
		return http.MethodPost
	case req.Head:
		return http.MethodHead
	}
	return http.MethodGet
}

// headEnd returns the length of the request head at the start of b, through the blank line
// that ends it (after CRLF or a bare LF), or -1 when b holds no whole head.
func headEnd(b []byte) int {
	for i := 0; ; {
		j := bytes.IndexByte(b[i:], '\n')
		if j < 0 {
			return -1
		}
		i += j + 1
		switch {
		case i < len(b) && b[i] == '\n':
			return i + 1
		case i+1 < len(b) && b[i] == '\r' && b[i+1] == '\n':
			return i + 2
		}
	}
}

// parseRequestLine reads the request line into req and reports whether the fast path may
// answer it: a GET or HEAD of any plain path, or a POST of one of posts. line excludes its CRLF.
func parseRequestLine(line []byte, req *Request, posts []string) bool {
	switch {
	case bytes.HasPrefix(line, []byte("GET ")):
		line = line[len("GET "):]
	case bytes.HasPrefix(line, []byte("HEAD ")):
		req.Head, line = true, line[len("HEAD "):]
	case bytes.HasPrefix(line, []byte("POST ")):
		req.post, line = true, line[len("POST "):]
	default:
		return false
	}
	target, proto, ok := bytes.Cut(line, []byte(" "))
	if !ok || string(proto) != "HTTP/1.1" || !validPath(target) {
		return false
	}
	if req.post && !slices.Contains(posts, string(target)) {
		return false
	}
	req.Path = target
	return true
}

// maxContentLengthDigits bounds the digits of a Content-Length the fast path reads: a body it
// reads is within its buffer.
const maxContentLengthDigits = 4

// parse reads head, a request head through its blank line, into req and reports whether the
// fast path may answer it (see the package doc), a POST only to one of posts; false leaves the
// request to net/http.
func parse(head []byte, req *Request, posts []string) bool {
	*req = Request{}
	line, rest, ok := cutLine(head)
	if !ok || !parseRequestLine(line, req, posts) {
		return false
	}
	hosts, lengths := 0, 0
	for {
		if line, rest, ok = cutLine(rest); !ok {
			return false
		}
		if len(line) == 0 {
			// A POST says its body's length once; a GET or HEAD has no body.
			return hosts == 1 && len(rest) == 0 && lengths == btoi(req.post)
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok || !validName(name) {
			return false
		}
		value = trimSpace(value)
		if !validValue(value) {
			return false
		}
		switch {
		case equalFold(name, "host"):
			hosts++
			if !validHost(value) {
				return false
			}
		case equalFold(name, "if-none-match"):
			if req.IfNoneMatch != nil {
				return false
			}
			req.IfNoneMatch = value[:len(value):len(value)]
		case equalFold(name, "x-request-id"):
			if req.RequestID != nil {
				return false
			}
			req.RequestID = value[:len(value):len(value)]
		case equalFold(name, "connection"):
			if !equalFold(value, "keep-alive") {
				return false
			}
		case equalFold(name, "content-length"):
			n, ok := parseLength(value)
			if !ok || !req.post {
				return false
			}
			lengths++
			req.contentLength = n
		case equalFold(name, "transfer-encoding"),
			equalFold(name, "expect"), equalFold(name, "upgrade"):
			return false
		}
	}
}

// parseLength reads a Content-Length of 1 to maxContentLengthDigits decimal digits, which
// net/http reads as the same number.
func parseLength(v []byte) (int, bool) {
	if len(v) == 0 || len(v) > maxContentLengthDigits {
		return 0, false
	}
	n := 0
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// btoi is 1 for true and 0 for false.
func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// cutLine cuts b at its first CRLF; a line ending in a bare LF is not cut.
func cutLine(b []byte) (line, rest []byte, ok bool) {
	i := bytes.IndexByte(b, '\n')
	if i < 1 || b[i-1] != '\r' {
		return nil, nil, false
	}
	return b[:i-1], b[i+1:], true
}

// validPath reports whether p is an absolute path of letters, digits and "-._~/" only.
func validPath(p []byte) bool {
	return len(p) > 0 && p[0] == '/' && nonEmptyOf(p, "-._~/")
}

// validName reports whether name is a token: letters, digits and "!#$%&'*+-.^_`|~".
func validName(name []byte) bool { return nonEmptyOf(name, "!#$%&'*+-.^_`|~") }

// validValue reports whether v holds only visible ASCII, spaces and tabs.
func validValue(v []byte) bool {
	for _, c := range v {
		if (c < ' ' && c != '\t') || c > '~' {
			return false
		}
	}
	return true
}

// validHost reports whether h is a non-empty host[:port] of letters, digits and "-._:[]".
func validHost(h []byte) bool { return nonEmptyOf(h, "-._:[]") }

// nonEmptyOf reports whether b is non-empty and each of its bytes a letter, a digit or one of
// extra.
func nonEmptyOf(b []byte, extra string) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if !isAlnum(c) && strings.IndexByte(extra, c) < 0 {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// trimSpace trims spaces and tabs from both ends of v.
func trimSpace(v []byte) []byte {
	for len(v) > 0 && (v[0] == ' ' || v[0] == '\t') {
		v = v[1:]
	}
	for len(v) > 0 && (v[len(v)-1] == ' ' || v[len(v)-1] == '\t') {
		v = v[:len(v)-1]
	}
	return v
}

// equalFold reports whether b equals the lower-case ASCII string lower, ignoring case.
func equalFold(b []byte, lower string) bool {
	if len(b) != len(lower) {
		return false
	}
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}
