package fastpath

import (
	"bytes"
	"context"
	"net/http"
	"net/textproto"
	"net/url"
)

// The http.Request of a request read for the Service is built from the head parse accepted,
// field for field as net/http's server builds the one it gives its handlers from the same
// bytes: the method, the target as RequestURI and as the URL url.ParseRequestURI reads from
// it (a path, even one that starts with "//"), HTTP/1.1, every header field but Host under its
// canonical name with its value trimmed of spaces and tabs, repeated fields in the order sent,
// Host in Host, Cache-Control: no-cache added for a Pragma: no-cache without one, the
// Content-Length, and the body (http.NoBody when there is none). The differential tests hold it
// to that: a handler behind the fast path sees what it sees behind net/http alone.

// serviceBody is the body of a POST read for the Service: bytes that came with its head.
type serviceBody struct{ bytes.Reader }

// Close does nothing: the bytes are the connection's, and emptied when the answer is done.
func (*serviceBody) Close() error { return nil }

// maxCanonicalName bounds the header names canonicalized without an allocation.
const maxCanonicalName = 64

// commonNames are canonical header names a request's fields are named with without a new
// string: each is its own canonical form.
var commonNames = func() map[string]string {
	m := map[string]string{}
	for _, name := range []string{
		"Accept", "Accept-Encoding", "Accept-Language", "Authorization", "Cache-Control",
		"Connection", "Content-Length", "Content-Type", "Cookie", "Host", "If-None-Match",
		"Pragma", "Traceparent", "Tracestate", "User-Agent", "X-Forwarded-For",
		"X-Forwarded-Host", "X-Forwarded-Proto", "X-Real-Ip", "X-Request-Id",
	} {
		m[name] = name
	}
	return m
}()

// newServiceRequest returns the http.Request of the request in raw, whose head parse read into
// req and whose body is the req.contentLength bytes after it, with ctx as its context; body
// reads the body's bytes.
func newServiceRequest(ctx context.Context, raw []byte, req *Request, body *serviceBody) (*http.Request, error) {
	target := string(req.Path)
	// A request target is read as net/http's server reads it: "//a/b" is a path, not a host.
	u, err := url.ParseRequestURI(target)
	if err != nil {
		return nil, err
	}
	head := raw[:len(raw)-req.contentLength]
	r := &http.Request{Method: req.method(), URL: u, RequestURI: target, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		ContentLength: int64(req.contentLength), Body: http.NoBody}
	r.Header = serviceHeader(head, &r.Host)
	if req.contentLength > 0 {
		body.Reset(raw[len(head):])
		r.Body = body
	}
	return r.WithContext(ctx), nil
}

// serviceHeader returns the header fields of head, a head parse accepted, as net/http's server
// gives them to its handlers, and sets host to its Host field's value, which they leave out.
func serviceHeader(head []byte, host *string) http.Header {
	_, rest, _ := cutLine(head)
	// The lines left are the fields and the blank line that ends them.
	n := bytes.Count(rest, []byte("\r\n")) - 1
	h := make(http.Header, n)
	values := make([]string, n)
	for {
		line, next, _ := cutLine(rest)
		if len(line) == 0 {
			break
		}
		rest = next
		name, value, _ := bytes.Cut(line, []byte(":"))
		key, v := canonicalName(name), string(trimSpace(value))
		switch vv, seen := h[key]; {
		case key == "Host":
			*host = v
		case seen:
			h[key] = append(vv, v)
		default:
			// Each name's first value is a one-element slice of values; a second one
			// appended to it gets an array of its own.
			values[0] = v
			h[key], values = values[:1:1], values[1:]
		}
	}
	if pragma := h["Pragma"]; len(pragma) > 0 && pragma[0] == "no-cache" {
		if _, ok := h["Cache-Control"]; !ok {
			h["Cache-Control"] = []string{"no-cache"}
		}
	}
	return h
}

// canonicalName returns the canonical form of name, a token (validName): its first letter and
// every letter after a '-' upper case, the others lower case, as textproto.CanonicalMIMEHeaderKey
// writes it.
func canonicalName(name []byte) string {
	if len(name) > maxCanonicalName {
		return textproto.CanonicalMIMEHeaderKey(string(name))
	}
	var buf [maxCanonicalName]byte
	b := buf[:len(name)]
	upper := true
	for i, c := range name {
		switch {
		case upper && 'a' <= c && c <= 'z':
			c -= 'a' - 'A'
		case !upper && 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		}
		b[i] = c
		upper = c == '-'
	}
	if common, ok := commonNames[string(b)]; ok {
		return common
	}
	return string(b)
}
