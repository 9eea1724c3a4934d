package main

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
)

// errNoDial stands for the network: a request net/http accepts fails here.
var errNoDial = errors.New("no dial")

// netHTTPAccepts says whether net/http's Transport would send a header
// name and value: it checks them before dialing.
func netHTTPAccepts(name, value string) bool {
	tr := &http.Transport{DialContext: func(context.Context, string, string) (net.Conn, error) { return nil, errNoDial }}
	req, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1:1/", nil)
	req.Header[name] = []string{value}
	_, err := tr.RoundTrip(req)
	return errors.Is(err, errNoDial)
}

// FuzzHeaderChecks holds the --header checks to net/http's on the same
// bytes: a header genload accepts is one net/http would send, and the
// other way round.
func FuzzHeaderChecks(f *testing.F) {
	for _, s := range [][2]string{{"X-A", "v"}, {"X A", "v"}, {"X-A", "v\r\nX: y"}, {"Ü", "v"}, {"X", "\tv\x80"}, {"", "v"}, {"X", "\x7f"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, name, value string) {
		if name == "" || strings.TrimSpace(value) != value { // trimmed by the flag reader
			return
		}
		ours := validHeaderName(name) && validHeaderValue(value)
		if theirs := netHTTPAccepts(name, value); ours != theirs {
			t.Fatalf("%q: %q: ours %v, net/http %v", name, value, ours, theirs)
		}
	})
}
