// Package configcheck validates a broker configuration file exactly as `broker serve` reads it
// (strict decoding, defaults, every validation rule; with CheckFile, the rules on the file and
// the directories it lies in too), for tools outside this module such as the
// deployment tests, which check that the configuration a Helm chart or a compose file renders
// is one broker accepts.
package configcheck
