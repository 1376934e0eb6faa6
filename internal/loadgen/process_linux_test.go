//go:build linux

package loadgen

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// deadParentEnv, when set, makes TestChildDiesWithTheLoadProgram the load program that dies:
// it starts a child, prints its process id and exits without stopping it.
const deadParentEnv = "LOADGEN_TEST_DYING_PARENT"

// TestChildDiesWithTheLoadProgram: a child the load program started (broker serve,
// redis-server, nginx) does not outlive a load program that dies without stopping it, killed
// or timed out: the kernel kills it, so no server is left holding its port and the cores.
func TestChildDiesWithTheLoadProgram(t *testing.T) {
	if dir := os.Getenv(deadParentEnv); dir != "" {
		cc := childCommand{name: "sleep", dir: dir, bin: "sleep", args: []string{"60"}}
		c, err := startChild(cc)
		if err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		fmt.Println("child", c.Pid())
		os.Exit(0) // dies without stopping its child
	}
	if _, err := exec.LookPath("sleep"); err != nil {
		t.Skipf("no sleep program to start as the child: %v", err)
	}
	parent := exec.Command(os.Args[0], "-test.run", "^TestChildDiesWithTheLoadProgram$")
	parent.Env = append(os.Environ(), deadParentEnv+"="+t.TempDir())
	var out bytes.Buffer
	parent.Stdout = &out
	if err := parent.Run(); err != nil {
		t.Fatalf("the dying load program: %v\n%s", err, out.String())
	}
	var pid int
	for _, line := range strings.Split(out.String(), "\n") {
		if v, ok := strings.CutPrefix(line, "child "); ok {
			pid, _ = strconv.Atoi(v)
		}
	}
	if pid <= 0 {
		t.Fatalf("the dying load program printed no child: %q", out.String())
	}
	t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGKILL) })
	// Dead is gone or a zombie: the child's new parent may never reap it.
	deadline := time.Now().Add(10 * time.Second)
	for {
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil || processState(stat) == "Z" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("child %d still runs (state %s) 10s after its load program died",
				pid, processState(stat))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// processState is the state letter of a /proc/PID/stat line: the field after the command
// name, which is in parentheses and may hold spaces.
func processState(stat []byte) string {
	s := string(stat)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && i+3 <= len(s) {
		return s[i+2 : i+3]
	}
	return ""
}
