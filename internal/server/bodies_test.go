package server

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestBodiesOver64KiBEverywhere: a body over 64 KiB is a 413 on every route: the public
// documents (answered in front of the API's router), /healthz, and a route that reads no body,
// whether its length is declared or not (chunked); a small chunked body still reaches its route.
func TestBodiesOver64KiBEverywhere(t *testing.T) {
	ts := startServer(t, serverOptions{})
	run := ts.createRun(t, "vpc-prod", "TRACKED")
	big := strings.Repeat("x", 70<<10)
	for _, tc := range []struct {
		name, path string
		body       io.Reader
		want       int
	}{
		{"discovery, declared", "/.well-known/openid-configuration", bytes.NewReader([]byte(big)), http.StatusRequestEntityTooLarge},
		{"healthz, declared", "/healthz", bytes.NewReader([]byte(big)), http.StatusRequestEntityTooLarge},
		{"a run, declared", "/v1/runs/" + run.Run.ID, bytes.NewReader([]byte(big)), http.StatusRequestEntityTooLarge},
		// Not a *bytes.Reader or *strings.Reader: net/http sends it chunked, of unknown length.
		{"a run, chunked", "/v1/runs/" + run.Run.ID, io.MultiReader(strings.NewReader(big)), http.StatusRequestEntityTooLarge},
		{"discovery, chunked", "/.well-known/openid-configuration", io.MultiReader(strings.NewReader(big)), http.StatusRequestEntityTooLarge},
		{"a run, small chunked", "/v1/runs/" + run.Run.ID, io.MultiReader(strings.NewReader("{}")), http.StatusOK},
		{"discovery, small chunked", "/.well-known/openid-configuration", io.MultiReader(strings.NewReader("{}")), http.StatusOK},
	} {
		req, err := http.NewRequest("GET", ts.URL+tc.path, tc.body)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+adminSecret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("GET %s (%s): %d, want %d", tc.path, tc.name, resp.StatusCode, tc.want)
		}
	}
}
