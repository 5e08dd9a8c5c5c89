package listen_test

import (
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"github.com/camsd/camsd/listen"
)

// TestLimit: connections over the cap are closed at once; once one under it closes, the next
// connection is served.
func TestLimit(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := listen.Limit(inner, 2)
	defer ln.Close()
	accepted := make(chan net.Conn, 10)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				close(accepted)
				return
			}
			accepted <- c
		}
	}()
	next := func() net.Conn {
		t.Helper()
		select {
		case c := <-accepted:
			return c
		case <-time.After(10 * time.Second):
			t.Fatal("no connection accepted")
			return nil
		}
	}
	dial := func() net.Conn {
		t.Helper()
		c, err := net.DialTimeout("tcp", inner.Addr().String(), 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	// closedByServer says whether the server closed c without a byte.
	closedByServer := func(c net.Conn) bool {
		t.Helper()
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		n, err := c.Read(make([]byte, 1))
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return false
		}
		return n == 0 && err != nil // EOF, or a reset
	}

	dial()
	first := next()
	dial()
	next()
	if got := ln.Open(); got != 2 {
		t.Fatalf("Open() = %d, want 2", got)
	}
	for range 3 {
		if c := dial(); !closedByServer(c) {
			t.Fatal("a connection over the cap was left open")
		}
	}
	if got := ln.Refused(); got != 3 {
		t.Errorf("Refused() = %d, want 3", got)
	}

	first.Close()
	first.Close() // a second Close frees no second place
	c := dial()
	server := next()
	if _, err := c.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	_ = server.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadFull(server, make([]byte, 1)); err != nil {
		t.Fatalf("the connection after one closed is not served: %v", err)
	}
	if got := ln.Open(); got != 2 {
		t.Errorf("Open() = %d, want 2", got)
	}
	if c := dial(); !closedByServer(c) {
		t.Fatal("a connection over the cap was left open")
	}
}
