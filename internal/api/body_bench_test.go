package api

import (
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// BenchmarkDecodeBody measures decodeBody on the token endpoint's body, the hot path.
func BenchmarkDecodeBody(b *testing.B) {
	const body = `{"audience":"sts.amazonaws.com"}`
	b.ReportAllocs()
	for b.Loop() {
		r := &http.Request{Body: io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body))}
		var req tokenRequest
		if err := decodeBody(r, &req, bodyOptional); err != nil || req.Audience != "sts.amazonaws.com" {
			b.Fatalf("decode: %v %q", err, req.Audience)
		}
	}
}

// BenchmarkCheckKeys measures the key scan alone on the create-run body.
func BenchmarkCheckKeys(b *testing.B) {
	body := []byte(`{"stack":"vpc-prod","runType":"TRACKED","phase":"PLANNING"}`)
	typ := reflect.TypeFor[*createRunRequest]()
	b.ReportAllocs()
	for b.Loop() {
		if err := checkKeys(body, typ); err != nil {
			b.Fatal(err)
		}
	}
}
