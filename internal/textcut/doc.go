// Package textcut cuts text to a length in bytes without splitting a UTF-8 character: the one
// rule every message, detail and value broker caps follows.
package textcut
