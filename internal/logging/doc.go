// Package logging group-commits log output: a Writer queues each line whole and one writer
// goroutine writes everything queued while its previous write was in flight with a single Write
// to the underlying writer, so under load one write(2) carries many lines while at low load a
// line goes out as soon as the goroutine wakes, with no timer.
package logging
