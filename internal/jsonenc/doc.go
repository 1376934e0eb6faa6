// Package jsonenc appends JSON values to byte slices, byte for byte as encoding/json's Marshal
// writes them, for the few documents of the token path that are encoded once per request.
package jsonenc
