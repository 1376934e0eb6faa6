package server

import (
	"os"
	"syscall"
	"testing"
	"time"
)

// TestCertReloadRefusesFIFO: a reload (what SIGHUP runs) refuses at once a tls.cert_file that
// is not a regular file (a FIFO), as the configuration file and the key file are refused, and
// the certificate in force stays. Blocking on it would stall this reload, every later one, and
// serve's exit, which waits for them.
func TestCertReloadRefusesFIFO(t *testing.T) {
	certFile, keyFile, _ := writeServingCert(t)
	c, err := newServingCert(certFile, keyFile, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	before := c.cur.Load()
	if err := os.Remove(certFile); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(certFile, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- c.reload() }()
	select {
	case err := <-done:
		if err == nil {
			t.Error("a cert_file that is a FIFO was accepted")
		}
	case <-time.After(3 * time.Second):
		releaseFIFO(t, certFile)
		<-done
		t.Fatal("reload blocked on a cert_file that is a FIFO instead of refusing it")
	}
	if c.cur.Load() != before {
		t.Error("the certificate in force changed after a refused reload")
	}
}

// releaseFIFO opens the FIFO at path for writing and closes it, so that a reader blocked
// on it sees the end of the file.
func releaseFIFO(t *testing.T, path string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		t.Logf("releasing the FIFO: %v", err)
		return
	}
	_ = f.Close()
}
