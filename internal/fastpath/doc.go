// Package fastpath answers the simplest HTTP/1.1 requests of a plain-HTTP listener without
// net/http's per-request machinery, and hands every other connection to net/http.
//
// A Listener wraps the server's listener. It reads each new connection's requests itself, one
// head at a time, and asks its Handler for an answer only when the head is one it understands
// completely: GET or HEAD, an origin-form target of plain characters and no query, HTTP/1.1,
// exactly one valid Host, no body (no Content-Length, Transfer-Encoding or Expect), no Upgrade,
// no Connection but keep-alive, CRLF line ends, well-formed header names and values, and the
// whole head within a small buffer. On anything else, and whenever the Handler declines, the
// connection goes to net/http through Accept with every byte read so far, so net/http parses
// that request and the rest of the connection as if it had read them first. The fast path never
// answers an error of its own: net/http does, with the server's own handlers.
//
// A POST to one of a few paths the server names (Config.Posts) is read too, under the same rules
// and with exactly one Content-Length of at most four digits, when its whole body came with its
// head within the buffer; its Service, an http.Handler, gets the http.Request net/http's
// server would give it for those bytes, built from the head the fast path read (the
// differential tests compare the two field by field), and answers through a ResponseWriter
// that writes the answer whole, framed by its Content-Length, as net/http frames a short
// answer. A body still on its way, and any other POST, goes to net/http with the connection.
// So does a GET of one of the paths the server names for its Service (Config.Gets, such as
// health probes) that the Handler declines: the Service answers it the same way, and the
// connection stays with the fast path.
//
// The Listener keeps net/http's timeouts (header, idle, write) on the connections it serves
// and, on Shutdown, closes them as http.Server.Shutdown closes its own: idle ones at once,
// busy ones after their answer, which says "Connection: close" as net/http's does. Before that,
// Drain keeps it accepting and answering while making each answer its connection's last.
package fastpath
