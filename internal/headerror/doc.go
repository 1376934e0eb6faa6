// Package headerror answers in the API's error envelope the requests whose head net/http refuses
// before any handler runs: headers over the server's limit, a malformed header line, Host or
// Content-Length, a Transfer-Encoding it does not implement, an HTTP version it does not serve,
// an Expect other than 100-continue. net/http writes those answers itself, in plain text or
// empty, straight to the connection; a Listener wraps each connection so that such an answer is
// rewritten as it is written, and every other byte passes unchanged.
//
// An unimplemented Transfer-Encoding (net/http's 501), an unserved HTTP version (505) and an
// unmet Expect (417) are the client's bad input like the rest, and are answered 400
// invalid_request; headers over the limit (net/http's 431) are answered 413 too_large, the one
// status the API gives that code.
//
// On a TLS listener the connection net/http sees is no longer a *tls.Conn, so the Listener makes
// the handshake itself, bounded as net/http bounds it, and answers a plain HTTP request sent to
// the TLS port as net/http does, in the envelope.
package headerror
