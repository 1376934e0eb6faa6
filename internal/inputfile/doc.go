// Package inputfile reads the files broker takes as input under one rule: a regular file (a
// FIFO or a device such as /dev/zero would block or never end) of at most a given size, opened
// once and judged by what was opened. A kind of file with a rule of its own (a configuration
// file others may not write, a key file only its owner may read) adds that rule as a Check.
package inputfile
