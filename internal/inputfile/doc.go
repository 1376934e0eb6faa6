// Package inputfile reads the files broker takes as input under one rule: a regular file (a
// FIFO or a device such as /dev/zero would block or never end) of at most a given size.
package inputfile
