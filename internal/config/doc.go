// Package config decodes, defaults and validates broker's YAML configuration file
// (the schema of the contract's broker.example.yaml).
//
// Decoding is strict: an unknown key, a value of the wrong type, a duplicate or malformed id and
// a reference to an object that does not exist are all errors, and Load reports every problem at
// once, each naming the file, the line, the key path and the bad value.
package config
