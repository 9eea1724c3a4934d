//go:build race

package sim

// raceEnabled loosens the client-side timing bounds: the race detector slows
// the request path (HTTP parsing, JSON) several-fold, which a client sees as
// TTFT, though the server's own deadlines stay exact.
const raceEnabled = true
