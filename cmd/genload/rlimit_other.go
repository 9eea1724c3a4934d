//go:build !unix

package main

func openFileLimit() (soft, hard uint64, ok bool) { return 0, 0, false }

func raiseOpenFileLimit(uint64) bool { return false }
