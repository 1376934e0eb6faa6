package main

import (
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestReloadAfterAliasBomb: an operator saves a 13 KB file whose YAML aliases repeat a list of
// 300 labels of the wrong type on 300 stacks, and sends SIGHUP: the file is refused (logged)
// at once, and the fixed file of the next SIGHUP is in force, although SIGHUPs are handled one
// at a time. The bounds are generous: checking each of the file's problems against each of its
// bad paths takes minutes.
func TestReloadAfterAliasBomb(t *testing.T) {
	srv := startReloadServer(t, "{id: s1, space: prod}")
	cmd, stderr, d := srv.cmd, srv.stderr, srv.d
	write := func(text string) { srv.write(t, text) }
	valid := reloadStacks

	labels := strings.TrimSuffix(strings.Repeat("{},", 300), ",")
	bomb := strings.Replace(reloadFile, "spaces: [{id: root}, {id: prod, parent: root}]",
		"spaces: [{id: root}, {id: prod, parent: root, labels: &l ["+labels+"]}]", 1)
	var stacks []string
	for i := range 300 {
		stacks = append(stacks, "{id: s"+strings.Repeat("x", i%7)+", space: prod, labels: *l}")
	}
	write(strings.Replace(bomb, "STACKS", strings.Join(stacks, ", "), 1))
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	for start := time.Now(); !strings.Contains(stderr.String(), "config reload refused"); time.Sleep(50 * time.Millisecond) {
		if time.Since(start) > 30*time.Second {
			t.Fatal("the aliased file's refusal is not logged 30 s after its SIGHUP")
		}
	}

	write(valid("{id: s1, space: prod}, {id: s2, space: prod}"))
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	newRun := func(stack string) int {
		return d.post(t, request{path: "/v1/runs", bearer: reloadSecret, body: `{"stack":"` + stack + `","runType":"TRACKED"}`})
	}
	for start := time.Now(); newRun("s2") != 201; time.Sleep(50 * time.Millisecond) {
		if time.Since(start) > 30*time.Second {
			t.Fatal("the fixed file's stack s2 gets no run 30 s after its SIGHUP")
		}
	}
}
