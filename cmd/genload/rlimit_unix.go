//go:build unix

package main

import "syscall"

// openFileLimit is RLIMIT_NOFILE: Go raises the soft limit to the hard one
// at start on most systems, so soft is usually what there is.
func openFileLimit() (soft, hard uint64, ok bool) {
	var l syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l) != nil {
		return 0, 0, false
	}
	return uint64(l.Cur), uint64(l.Max), true
}

func raiseOpenFileLimit(n uint64) bool {
	var l syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l) != nil {
		return false
	}
	l.Cur = n
	return syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l) == nil
}
