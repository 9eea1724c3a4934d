//go:build linux

package kstamp

import (
	"slices"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// TestKernelTimeRefusesBadControl: control messages cut short or of
// other kinds give no time, never a panic.
func TestKernelTimeRefusesBadControl(t *testing.T) {
	for _, oob := range [][]byte{nil, make([]byte, 3), make([]byte, 64)} {
		if _, ok := Parse(oob); ok {
			t.Errorf("%d zero bytes read as a time", len(oob))
		}
	}
}

// FuzzKernelTime holds Parse, the hand-written reader of recvmsg's
// control messages, to the standard library's syscall.ParseSocketControlMessage
// on the same bytes: it finds a receive time exactly when the standard
// parser finds a whole SCM_TIMESTAMPNS message, and the same time, and it
// never panics.
func FuzzKernelTime(f *testing.F) {
	ts := syscall.Timespec{Sec: 1764633600, Nsec: 123456789}
	msg := make([]byte, syscall.CmsgSpace(int(unsafe.Sizeof(ts))))
	h := (*syscall.Cmsghdr)(unsafe.Pointer(&msg[0]))
	h.Level, h.Type = syscall.SOL_SOCKET, syscall.SCM_TIMESTAMPNS
	h.SetLen(syscall.CmsgLen(int(unsafe.Sizeof(ts))))
	*(*syscall.Timespec)(unsafe.Pointer(&msg[syscall.CmsgSpace(0)])) = ts
	f.Add(msg)
	other := slices.Clone(msg)
	(*syscall.Cmsghdr)(unsafe.Pointer(&other[0])).Type = syscall.SCM_RIGHTS
	f.Add(append(other, msg...))
	f.Add(msg[:len(msg)-1])
	f.Fuzz(func(t *testing.T, data []byte) {
		// 8-aligned, as the kernel writes them and as Parse reads.
		buf := make([]uint64, (len(data)+7)/8)
		oob := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(buf))), len(buf)*8)[:len(data)]
		copy(oob, data)
		got, ok := Parse(oob)
		msgs, err := syscall.ParseSocketControlMessage(oob)
		var want time.Time
		found := false
		for _, m := range msgs {
			if m.Header.Level == syscall.SOL_SOCKET && m.Header.Type == syscall.SCM_TIMESTAMPNS && len(m.Data) >= int(unsafe.Sizeof(ts)) {
				t := (*syscall.Timespec)(unsafe.Pointer(&m.Data[0]))
				want, found = time.Unix(int64(t.Sec), int64(t.Nsec)), true //nolint:unconvert
				break
			}
		}
		if err != nil && !found {
			if ok {
				t.Fatalf("Parse found %v where the standard parser fails (%v): %x", got, err, data)
			}
			return
		}
		if ok != found || ok && !got.Equal(want) {
			t.Fatalf("Parse %v %v, the standard parser %v %v (err %v): %x", got, ok, want, found, err, data)
		}
	})
}
