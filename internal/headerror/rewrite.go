package headerror

import (
	"bytes"
	"net/http"
	"strconv"

	"github.com/brokerhq/broker/internal/apierror"
)

// netHTTPErrorHeaders is what follows the status line of every answer net/http writes itself
// to a request head it refuses. A handler's answer never has it: net/http adds a Date header
// to each of those, and broker's carry JSON.
const netHTTPErrorHeaders = "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"

// expectationFailed and expectationFailed10 start net/http's answer to a request whose Expect
// is not 100-continue, in HTTP/1.1 and HTTP/1.0.
const (
	expectationFailed   = "HTTP/1.1 417 Expectation Failed\r\n"
	expectationFailed10 = "HTTP/1.0 417 Expectation Failed\r\n"
)

// reasons are the texts net/http gives after a 400's status, each a fixed string naming no part
// of the request; any other is not repeated.
var reasons = map[string]string{
	"missing required Host header": "it has no Host header",
	"malformed Host header":        "its Host header is malformed",
	"invalid header name":          "a header name is malformed",
	"invalid header value":         "a header value is malformed",
}

// rewrite returns the envelope answer standing for b when b is one of net/http's own answers to
// a request head it refused, and false for any other bytes.
func rewrite(b []byte) ([]byte, bool) {
	const proto = "HTTP/1.1 "
	// net/http refuses an Expect other than 100-continue through the response writer, with a
	// 417 no handler of broker's answers.
	if bytes.HasPrefix(b, []byte(expectationFailed)) || bytes.HasPrefix(b, []byte(expectationFailed10)) {
		return answer(http.StatusBadRequest, apierror.New(apierror.CodeInvalidRequest,
			"The request's Expect header asks for what the server does not do; only 100-continue is taken.")), true
	}
	// Every answer starts with its status line; only net/http's own go on with these headers.
	end := bytes.IndexByte(b, '\r')
	if end < len(proto)+3 || !bytes.HasPrefix(b, []byte(proto)) || !bytes.HasPrefix(b[end:], []byte(netHTTPErrorHeaders)) {
		return nil, false
	}
	status, err := strconv.Atoi(string(b[len(proto) : len(proto)+3]))
	if err != nil {
		return nil, false
	}
	line := string(b[len(proto):end])
	switch {
	case status == http.StatusRequestHeaderFieldsTooLarge:
		// The API answers too_large with 413 whatever was too large.
		return answer(http.StatusRequestEntityTooLarge, apierror.New(apierror.CodeTooLarge, "The request's headers are larger than the server takes.")), true
	case status == http.StatusNotImplemented:
		return answer(http.StatusBadRequest, apierror.New(apierror.CodeInvalidRequest,
			"The request's Transfer-Encoding is not supported; send the body with Content-Length or chunked.")), true
	case status == http.StatusHTTPVersionNotSupported:
		return answer(http.StatusBadRequest, apierror.New(apierror.CodeInvalidRequest, "The request's HTTP version is not served; send HTTP/1.1.")), true
	case status == http.StatusBadRequest:
		msg := "The request's head is malformed."
		if _, reason, ok := bytes.Cut([]byte(line), []byte(": ")); ok {
			if why, known := reasons[string(reason)]; known {
				msg = "The request's head is malformed: " + why + "."
			}
		}
		return answer(status, apierror.New(apierror.CodeInvalidRequest, "%s", msg)), true
	}
	return nil, false
}

// answer is a whole HTTP/1.1 answer of status carrying e in the envelope, closing the
// connection as net/http's own answer does.
func answer(status int, e *apierror.Error) []byte {
	body := apierror.Body(e)
	b := make([]byte, 0, 160+len(body))
	b = append(b, "HTTP/1.1 "...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, ' ')
	b = append(b, http.StatusText(status)...)
	b = append(b, "\r\nContent-Type: application/json\r\nCache-Control: no-store\r\nConnection: close\r\nContent-Length: "...)
	b = strconv.AppendInt(b, int64(len(body)), 10)
	b = append(b, "\r\n\r\n"...)
	return append(b, body...)
}
