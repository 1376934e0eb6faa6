// Package gcfloor keeps the garbage collector's heap goal above a floor. With GOGC's default
// of 100 the next collection is due when the heap has grown by as much as the live heap (and
// the goroutine stacks and globals) since the last one; a server whose live heap is a few MiB
// but that allocates fast then collects dozens of times a second, paying each cycle's fixed
// costs for little garbage. After each collection, the floor raises GOGC just enough for the
// next goal to reach it, so a small heap is collected as if it were the floor's size, and gives
// GOGC back as the live heap grows: a large heap keeps the configured GOGC and its memory bound.
package gcfloor
