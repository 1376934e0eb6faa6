package loadgen

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"time"
)

// HTTPRequest is the request an HTTP worker sends, again and again.
type HTTPRequest struct {
	Method string
	URL    string
	// Header is sent with every request (Authorization, Content-Type).
	Header http.Header
	// Body is sent with every request; nil for none.
	Body []byte
	// Check judges an answer; nil accepts any 200.
	Check func(status int, body []byte) error
}

// requestTimeout bounds one request of the load driver.
const requestTimeout = 30 * time.Second

// httpWorker sends one HTTPRequest over its own keep-alive connection.
type httpWorker struct {
	req    HTTPRequest
	client *http.Client
	buf    bytes.Buffer
}

// NewHTTPWorkers returns n workers sending req, each with its own transport and so its own
// keep-alive connection: the same driver for every server measured.
func NewHTTPWorkers(n int, req HTTPRequest) []Worker {
	ws := make([]Worker, n)
	for i := range ws {
		tr := &http.Transport{
			Proxy: nil, MaxIdleConns: 1, MaxIdleConnsPerHost: 1, IdleConnTimeout: 10 * time.Minute,
			DisableCompression: true,
		}
		ws[i] = &httpWorker{req: req, client: &http.Client{Transport: tr, Timeout: requestTimeout}}
	}
	return ws
}

// CloseWorkers closes the idle connections of workers made by NewHTTPWorkers.
func CloseWorkers(ws []Worker) {
	for _, w := range ws {
		if hw, ok := w.(*httpWorker); ok {
			hw.client.CloseIdleConnections()
		}
	}
}

// Do sends the request once and checks the answer.
func (w *httpWorker) Do(ctx context.Context) error {
	var body io.Reader
	if w.req.Body != nil {
		body = bytes.NewReader(w.req.Body)
	}
	req, err := http.NewRequestWithContext(ctx, w.req.Method, w.req.URL, body)
	if err != nil {
		return fmt.Errorf("%s %s: %w", w.req.Method, w.req.URL, err)
	}
	for k, v := range w.req.Header {
		req.Header[k] = v
	}
	resp, err := w.client.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", w.req.Method, w.req.URL, err)
	}
	w.buf.Reset()
	_, err = w.buf.ReadFrom(resp.Body)
	if cerr := resp.Body.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("%s %s: read answer: %w", w.req.Method, w.req.URL, err)
	}
	check := w.req.Check
	if check == nil {
		check = expectOK
	}
	if err := check(resp.StatusCode, w.buf.Bytes()); err != nil {
		return fmt.Errorf("%s %s: %w", w.req.Method, w.req.URL, err)
	}
	return nil
}

// expectOK accepts any 200 answer.
func expectOK(status int, body []byte) error {
	if status != http.StatusOK {
		return fmt.Errorf("status %d: %.200s", status, body)
	}
	return nil
}

// expectBody accepts a 200 answer of exactly want.
func expectBody(want []byte) func(int, []byte) error {
	return func(status int, body []byte) error {
		if err := expectOK(status, body); err != nil {
			return err
		}
		if !bytes.Equal(body, want) {
			return fmt.Errorf("answer of %d bytes differs from the %d expected", len(body), len(want))
		}
		return nil
	}
}

// expectToken accepts a 200 answer holding a JWT.
func expectToken(status int, body []byte) error {
	if err := expectOK(status, body); err != nil {
		return err
	}
	if !bytes.Contains(body, []byte(`"token":"ey`)) {
		return fmt.Errorf("no token in the answer of %d bytes", len(body)) // the body is not quoted: it may hold a secret
	}
	return nil
}
