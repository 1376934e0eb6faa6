package logging

import (
	"context"
	"io"
	"os"
	"testing"
	"time"
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

// BenchmarkRequestLine is one access log line into a Writer over io.Discard, from every core:
// through slog's JSON handler (a Record, as any handler takes it) and through JSONHandler's
// request writer, which must write the same bytes for less.
func BenchmarkRequestLine(b *testing.B) {
	r := Request{Method: "POST", Path: "/v1/token", Route: "POST /v1/token", Status: 200, Duration: 1234567,
		Remote: "127.0.0.1:53422", RequestID: "YSQRDSPQA3NHIEGR7T2FVV3YXG"}
	for _, path := range []string{"slog", "JSONHandler"} {
		b.Run(path, func(b *testing.B) {
			w := NewWriter(io.Discard, Config{})
			h := NewJSONHandler(w)
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					r := r
					r.Time = time.Now()
					if path == "slog" {
						_ = h.Handle(context.Background(), r.Record())
					} else if !h.LogRequest(r) {
						b.Fatal("LogRequest declined the line")
					}
				}
			})
			b.StopTimer()
			if err := w.Close(); err != nil {
				b.Fatal(err)
			}
		})
	}
}
