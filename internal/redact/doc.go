// Package redact takes broker's own secrets out of text bound for a log line, an audit event or
// an error answer: a run token or an API key pasted where an id goes (a path, a query) must not
// be written back, since logs, the trail and a CLI's error output all reach other readers.
package redact
