//go:build !linux

// Package kstamp reads the kernel's receive times of socket reads: Linux
// only; elsewhere every read has none.
package kstamp

import "time"

// OOBSize is the size of a recvmsg control buffer.
var OOBSize = 64

// Enable is refused here.
func Enable(int) error { return errNoTimes }

// Warm does nothing.
func Warm() {}

// Since finds no time.
func Since([]byte, time.Time) time.Time { return time.Time{} }

// Parse finds no time.
func Parse([]byte) (time.Time, bool) { return time.Time{}, false }

type noTimes struct{}

func (noTimes) Error() string { return "kstamp: no kernel receive times on this platform" }

var errNoTimes error = noTimes{}
