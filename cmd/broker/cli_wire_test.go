package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestOversizedAnswerIsRefused checks that an answer longer than the CLI's cap
// (maxResponseBytes) is an operational error (exit 1) printing nothing: the CLI never acts on
// the first part of an answer it did not read in full (here a token answer followed by spaces
// past the cap and text that is not JSON).
func TestOversizedAnswerIsRefused(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		fmt.Fprint(w, `{"token":"aaa.bbb.ccc","expiresAt":"2030-01-01T00:00:00Z"}`)
		fmt.Fprint(w, strings.Repeat(" ", maxResponseBytes)+`"not json"`)
	}))
	defer srv.Close()
	r := runCLI(map[string]string{"BROKER_URL": srv.URL, "BROKER_RUN_TOKEN": "tok"}, "token")
	if r.code != exitError || r.stdout != "" {
		t.Errorf("%+v; want exit 1 and nothing printed for an answer over the cap", r)
	}
}

// TestBrokerURLSlashes checks that a BROKER_URL ending in more than one slash (joined as
// "$BASE/" with BASE ending in one) reaches the broker's endpoints as one with a single trailing
// slash does, rather than sending "//v1/...", which the broker answers 404.
func TestBrokerURLSlashes(t *testing.T) {
	b := startLive(t, liveFile(""))
	for _, u := range []string{b.url + "//", b.url + "///"} {
		r := runCLI(map[string]string{"BROKER_URL": u, "BROKER_API_KEY": liveAdmin}, "get", "spaces")
		if r.code != exitOK || !strings.Contains(r.stdout, "base") {
			t.Errorf("BROKER_URL=%s: %+v; want the spaces listed", u, r)
		}
	}
}
