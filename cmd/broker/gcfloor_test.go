package main

import (
	"bufio"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// gogcOf reads go_gc_gogc_percent from the server's /metrics.
func gogcOf(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "go_gc_gogc_percent "); ok {
			n, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("go_gc_gogc_percent %q: %v", v, err)
			}
			return int(n)
		}
	}
	t.Fatal("no go_gc_gogc_percent in /metrics")
	return 0
}

// broker serve raises GOGC for its small heap (the heap floor), and leaves a GOGC set by hand
// alone.
func TestServeHeapFloorUnlessGOGCIsSet(t *testing.T) {
	for _, tc := range []struct {
		name   string
		env    []string
		raised bool
	}{
		{"default", []string{"BROKER_CONFIG=", "GOGC="}, true},
		{"GOGC set", []string{"BROKER_CONFIG=", "GOGC=100"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := freeAddr(t)
			startProcess(t, tc.env, "serve", "--listen", addr)
			url := "http://" + addr
			waitReady(t, url)
			// Requests make garbage; collections follow, and the floor acts after each.
			deadline := time.Now().Add(20 * time.Second)
			gogc := gogcOf(t, url)
			for gogc == 100 && time.Now().Before(deadline) {
				for range 50 {
					if resp, err := http.Get(url + "/metrics"); err == nil {
						resp.Body.Close()
					}
				}
				gogc = gogcOf(t, url)
				if !tc.raised && time.Until(deadline) < 15*time.Second {
					break // five seconds of collections are enough to show it stays
				}
			}
			if raised := gogc > 100; raised != tc.raised {
				t.Errorf("GOGC %d, raised = %v; want raised = %v", gogc, raised, tc.raised)
			}
		})
	}
}
