package fastpath

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// BenchmarkLoopback is one GET of a small document over a keep-alive loopback connection per
// operation, each parallel goroutine on its own connection, answered by the fast path and by
// net/http alone (the same bytes, Date aside). Client and server share the process, so the
// figures include the client's work; their ratio within one run is the measurement.
func BenchmarkLoopback(b *testing.B) {
	benchLoopback(b, "GET /doc HTTP/1.1\r\nHost: h\r\n\r\n", Config{Handler: docFast{}}, http.HandlerFunc(docHandler))
}

// benchLoopback sends req over keep-alive loopback connections, one per parallel goroutine,
// to net/http serving handler behind a fast path of cfg, and to net/http alone, expecting
// readAnswer's answer.
func benchLoopback(b *testing.B, req string, cfg Config, handler http.Handler) {
	servers := map[string]func(net.Listener) net.Listener{
		"fastpath": func(ln net.Listener) net.Listener { return Listen(ln, cfg) },
		"net-http": func(ln net.Listener) net.Listener { return ln },
	}
	for _, name := range []string{"fastpath", "net-http"} {
		b.Run(name, func(b *testing.B) {
			inner, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			srv := &http.Server{Handler: handler, ReadHeaderTimeout: 5 * time.Second}
			go func() { _ = srv.Serve(servers[name](inner)) }()
			defer srv.Close()
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				c, err := net.Dial("tcp", inner.Addr().String())
				if err != nil {
					b.Error(err)
					return
				}
				defer c.Close()
				br := bufio.NewReader(c)
				for pb.Next() {
					if _, err := io.WriteString(c, req); err != nil {
						b.Error(err)
						return
					}
					if err := readAnswer(br); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// readAnswer reads one answer of docHandler or docFast to a GET from br: its head, then its
// 3-byte body.
func readAnswer(br *bufio.Reader) error {
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return err
		}
		if len(line) == 2 {
			break
		}
	}
	var body [3]byte
	if _, err := io.ReadFull(br, body[:]); err != nil {
		return err
	}
	if !bytes.Equal(body[:], []byte("doc")) {
		return io.ErrUnexpectedEOF
	}
	return nil
}

// postDoc answers a POST with "doc", having read its body, as a token endpoint reads its
// request and answers.
func postDoc(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	w.Header().Set("Content-Type", "text/plain")
	_, _ = io.WriteString(w, "doc")
}

// BenchmarkLoopbackPost is BenchmarkLoopback with a POST of a 64-byte body per operation,
// answered by the fast path's Service and by net/http alone, each with postDoc.
func BenchmarkLoopbackPost(b *testing.B) {
	req := "POST /post HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\nContent-Length: 64\r\n\r\n" + string(bytes.Repeat([]byte("b"), 64))
	cfg := Config{Handler: docFast{}, Service: http.HandlerFunc(postDoc), Posts: []string{"/post"}}
	benchLoopback(b, req, cfg, http.HandlerFunc(postDoc))
}
