package h1

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http/httputil"
	"testing"
	"time"
)

// collector is a Sink that takes bytes until it has stopAfter (0: all).
type collector struct {
	got       []byte
	stopAfter int
	calls     int
	at        []time.Time
}

func (c *collector) Warm() {}

func (c *collector) Body(p []byte, at, _ time.Time, _ uint64) bool {
	c.got = append(c.got, p...)
	c.calls++
	c.at = append(c.at, at)
	return c.stopAfter == 0 || len(c.got) < c.stopAfter
}

// pushThenPull decodes raw as Push does, fed in pieces of the given
// sizes (cycled; 0 is one byte), a sink stopping after stopAfter bytes,
// then the pull reader where the push stopped: what both read, the pull
// reader's error, and what is left in the connection's buffer after the
// body's last chunk.
func pushThenPull(raw []byte, sizes []byte, stopAfter int) (data []byte, err error, rest []byte) {
	var d chunks
	s := &collector{stopAfter: stopAfter}
	var left []byte
	for i, k := 0, 0; i < len(raw); k++ {
		n := 1
		if len(sizes) > 0 {
			n = max(int(sizes[k%len(sizes)]), 1)
		}
		piece := raw[i:min(i+n, len(raw))]
		took, more := d.feed(piece, s, time.Time{}, time.Time{}, 0)
		if !more {
			left = append(append(left, piece[took:]...), raw[i+len(piece):]...)
			break
		}
		i += len(piece)
	}
	br := bufio.NewReader(bytes.NewReader(left))
	pulled, err := io.ReadAll(d.rest(br))
	rest, _ = io.ReadAll(br)
	return append(s.got, pulled...), err, rest
}

// chunkedReference is what net/http's chunked reader makes of raw.
func chunkedReference(raw []byte) (data []byte, err error, rest []byte) {
	br := bufio.NewReader(bytes.NewReader(raw))
	data, err = io.ReadAll(httputil.NewChunkedReader(br))
	rest, _ = io.ReadAll(br)
	return data, err, rest
}

func checkPushAsPull(t *testing.T, raw, sizes []byte, stopAfter int) {
	t.Helper()
	want, wantErr, wantRest := chunkedReference(raw)
	got, gotErr, gotRest := pushThenPull(raw, sizes, stopAfter)
	if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
		t.Fatalf("%q (pieces %v, stop after %d): pushed then pulled: error %v; net/http: %v", raw, sizes, stopAfter, gotErr, wantErr)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%q (pieces %v, stop after %d): pushed then pulled %q; net/http read %q", raw, sizes, stopAfter, got, want)
	}
	if wantErr == nil && !bytes.Equal(gotRest, wantRest) {
		t.Fatalf("%q: left %q after the body; net/http left %q", raw, gotRest, wantRest)
	}
}

var chunkedSamples = []string{
	"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
	"5\r\nhello\r\n0\r\nTrailer: x\r\n\r\nHTTP/1.1 200 OK\r\n",
	"A\r\n0123456789\r\n1a\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\n\r\n",
	"5;ext=1\r\nhello\r\n0\r\n\r\n",
	"5 \r\nhello\r\n0\r\n\r\n",
	"5\nhello\n0\n\n",
	"00000005\r\nhello\r\n0\r\n\r\n",
	"000000005\r\nhello\r\n0\r\n\r\n",
	"5\r\nhelloXX0\r\n\r\n",
	"5\r\nhello\r",
	"5\r\nhel",
	"g\r\nhello\r\n",
	"\r\n",
	"",
	"1\r\na\r\n1\r\nb\r\n1\r\nc\r\n1\r\nd\r\n1\r\ne\r\n1\r\nf\r\n1\r\ng\r\n0\r\n\r\n",
	"ffffffff\r\nab",
	"7fffffffffffffff\r\n",
	"4\r\ndata\r\n0;x\r\n\r\n",
}

// TestPushChunksAsChunkedReader is the push decoder's differential test:
// for every sample, fed in pieces of every size from 1 to 9 bytes and
// stopped after every number of data bytes, the pushed bytes then the pull
// reader's read what net/http's chunked reader reads, fail as it fails,
// and leave the same bytes after the body.
func TestPushChunksAsChunkedReader(t *testing.T) {
	for _, raw := range chunkedSamples {
		for size := 1; size <= 9; size++ {
			for stop := 0; stop <= 12; stop++ {
				checkPushAsPull(t, []byte(raw), []byte{byte(size)}, stop)
			}
		}
	}
}

func FuzzPushChunks(f *testing.F) {
	for _, raw := range chunkedSamples {
		f.Add([]byte(raw), []byte{3, 1, 7}, uint8(0))
		f.Add([]byte(raw), []byte{64}, uint8(4))
	}
	f.Fuzz(func(t *testing.T, raw, sizes []byte, stop uint8) {
		checkPushAsPull(t, raw, sizes, int(stop))
	})
}
