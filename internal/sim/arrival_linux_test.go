//go:build linux

package sim

import (
	"net"
	"testing"
	"time"
)

// TestStampConnArrival: a read made 30 ms after the bytes came reports
// when they came, on llmsim's clock, and reads the bytes whole.
func TestStampConnArrival(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	sl := stampListener{ln}
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := sl.Accept()
		accepted <- c
	}()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	server := <-accepted
	if server == nil {
		t.Fatal("accept failed")
	}
	defer server.Close()
	ac, ok := server.(arrivalConn)
	if !ok {
		t.Skip("SO_TIMESTAMPNS refused here")
	}
	time.Sleep(10 * time.Millisecond) // timestamping turned on machine-wide
	sent := mono()
	client.Write([]byte("POST / HTTP/1.1\r\n\r\n"))
	time.Sleep(30 * time.Millisecond)
	buf := make([]byte, 64)
	n, err := server.Read(buf)
	read := mono()
	if err != nil || string(buf[:n]) != "POST / HTTP/1.1\r\n\r\n" {
		t.Fatalf("read %q, %v", buf[:n], err)
	}
	at := ac.arrival()
	if at < sent-time.Millisecond || at > read {
		t.Fatalf("arrival %v after the write, read %v after it: the arrival must lie between", at-sent, read-sent)
	}
	if read-at < 25*time.Millisecond {
		t.Errorf("the read came %v after the bytes arrived, want about 30ms", read-at)
	}
}
