// Package syncbuf is a byte buffer a test and the goroutines it starts may share: a logger's
// destination the test reads while the code under test still writes.
package syncbuf
