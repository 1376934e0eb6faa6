package main

import "testing"

func TestServeProcs(t *testing.T) {
	for _, tc := range []struct {
		name         string
		cores        int
		env          string
		procs, signs int
	}{
		{"two cores: one processor more than signers", 2, "", 3, 2},
		{"one core", 1, "", 2, 1},
		{"many cores", 16, "", 17, 16},
		{"GOMAXPROCS set by the operator stands", 4, "4", 4, 4},
		{"nonsense core count", 0, "", 2, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			procs, signs := serveProcs(tc.cores, tc.env)
			if procs != tc.procs || signs != tc.signs {
				t.Fatalf("serveProcs(%d, %q) = %d, %d; want %d, %d", tc.cores, tc.env, procs, signs, tc.procs, tc.signs)
			}
		})
	}
}
