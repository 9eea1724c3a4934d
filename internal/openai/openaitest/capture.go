package openaitest

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
)

// CaptureRequest sends the first request ln receives to got, in words
// (method, URI, protocol, whether Host is ln's address, length, the
// headers in order, the body) and answers it with a 500: the measure of
// "two clients send the same request".
func CaptureRequest(ln net.Listener, got chan<- string) {
	c, err := ln.Accept()
	if err != nil {
		return
	}
	defer c.Close()
	req, err := http.ReadRequest(bufio.NewReader(c))
	if err != nil {
		got <- err.Error()
		return
	}
	b, _ := io.ReadAll(req.Body)
	var out bytes.Buffer
	fmt.Fprintf(&out, "%s %s %s host-ok=%v len=%d\n", req.Method, req.RequestURI, req.Proto, req.Host == ln.Addr().String(), req.ContentLength)
	req.Header.Write(&out)
	out.Write(b)
	got <- out.String()
	io.WriteString(c, "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}")
}
