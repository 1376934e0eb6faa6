// Package textcut cuts text to a length in bytes without splitting a UTF-8 character, and
// flattens it to one printable line: the rules every message, detail and value broker caps or
// passes on from elsewhere follows.
package textcut
