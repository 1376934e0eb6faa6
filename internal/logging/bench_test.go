package logging

import (
	"io"
	"os"
	"testing"
)

// benchLine is about the size of an access log line.
var benchLine = []byte(`{"time":"2026-12-01T12:00:00.000000000Z","level":"INFO","msg":"request","method":"POST","path":"/v1/token","route":"/v1/token","status":200,"duration":"1.2ms","remote":"127.0.0.1:40000","request_id":"0123456789abcdef"}` + "\n")

// BenchmarkWrite is one goroutine logging into a Writer over io.Discard: in the steady state a
// Write allocates nothing.
func BenchmarkWrite(b *testing.B) {
	w := NewWriter(io.Discard, Config{})
	b.ReportAllocs()
	b.SetBytes(int64(len(benchLine)))
	for b.Loop() {
		if _, err := w.Write(benchLine); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkPipe compares parallel logging into a pipe (what stderr usually is for a server)
// written directly, one write(2) per line, with the same through a Writer; writes/op is the
// number of write(2) calls per line.
func BenchmarkPipe(b *testing.B) {
	for _, mode := range []string{"direct", "group-committed"} {
		b.Run(mode, func(b *testing.B) {
			r, pw, err := os.Pipe()
			if err != nil {
				b.Fatal(err)
			}
			drained := make(chan struct{})
			go func() { _, _ = io.Copy(io.Discard, r); close(drained) }()
			counter := &countingWriter{w: pw}
			var out io.Writer = counter
			var lw *Writer
			if mode == "group-committed" {
				lw = NewWriter(counter, Config{})
				out = lw
			}
			b.ReportAllocs()
			b.SetBytes(int64(len(benchLine)))
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := out.Write(benchLine); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.StopTimer()
			if lw != nil {
				if err := lw.Close(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(counter.n.Load())/float64(b.N), "writes/op")
			pw.Close()
			<-drained
			r.Close()
		})
	}
}
