package main

import (
	"strings"
	"testing"
)

// TestReadStateRefusesMalformedShape: a --state file that writeState could not have saved (a
// negative count, a tail that is not a lowercase hex SHA-256 while the count is above zero, a
// tail with a zero count) is refused with an error naming the file; the shapes it saves load.
func TestReadStateRefusesMalformedShape(t *testing.T) {
	hash := strings.Repeat("0123456789abcdef", 4)
	cases := []struct {
		name, content string
		want          string // "" loads; else a phrase of the error
	}{
		{"first verification's state", `{"issuer":"http://b","count":0,"tail":""}`, ""},
		{"a trail", `{"issuer":"http://b","count":3,"tail":"` + hash + `"}`, ""},
		{"negative count", `{"issuer":"http://b","count":-5,"tail":""}`, "count is -5, below zero"},
		{"negative count with a tail", `{"issuer":"http://b","count":-1,"tail":"` + hash + `"}`, "below zero"},
		{"no tail", `{"issuer":"http://b","count":3,"tail":""}`, "64 lowercase hex"},
		{"short tail", `{"issuer":"http://b","count":3,"tail":"abc"}`, "64 lowercase hex"},
		{"upper-case tail", `{"issuer":"http://b","count":3,"tail":"` + strings.ToUpper(hash) + `"}`, "64 lowercase hex"},
		{"tail not hex", `{"issuer":"http://b","count":3,"tail":"` + strings.Repeat("g", 64) + `"}`, "64 lowercase hex"},
		{"tail with a zero count", `{"issuer":"http://b","count":0,"tail":"` + hash + `"}`, "count is 0"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, "state.json", tc.content)
			s, err := readState(path)
			if tc.want == "" {
				if err != nil || s == nil {
					t.Fatalf("readState(%s) = %v, %v; want it loaded", tc.content, s, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("readState(%s) accepted %+v", tc.content, *s)
			}
			if msg := err.Error(); !strings.Contains(msg, tc.want) || !strings.Contains(msg, path) {
				t.Errorf("readState(%s) = %q, want it naming %s and %q", tc.content, msg, path, tc.want)
			}
		})
	}
}
