//go:build race

package plot

// raceEnabled trims the PNG tests: the race detector slows the rasteriser
// tenfold, and the drawing code has no goroutines for it to check.
const raceEnabled = true
