package listen

import (
	"net"
	"sync"
	"sync/atomic"
)

// Limit returns a listener that holds at most max connections of ln open at once. A
// connection accepted over the cap is closed at once, before anything is read from it or
// written to it, and Accept waits for the next one: a client over the cap sees its
// connection closed rather than left in the listen queue, and the process keeps its file
// descriptors for the store, the other listeners and the connections it serves.
// (golang.org/x/net/netutil.LimitListener blocks Accept instead, which leaves the excess in
// the kernel's queue, where clients time out without being told.)
func Limit(ln net.Listener, max int) *Limited {
	return &Limited{Listener: ln, max: int64(max)}
}

// Limited is a listener with a cap on open connections; see Limit.
type Limited struct {
	net.Listener
	max     int64
	open    atomic.Int64
	refused atomic.Uint64
}

// Accept returns the next connection under the cap; the returned connection frees its place
// when it is closed.
func (l *Limited) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.open.Add(1) <= l.max {
			return &limitedConn{Conn: c, release: func() { l.open.Add(-1) }}, nil
		}
		l.open.Add(-1)
		l.refused.Add(1)
		_ = c.Close()
	}
}

// Open is how many accepted connections are open now.
func (l *Limited) Open() int { return int(l.open.Load()) }

// Refused is how many connections were closed at once because the cap was reached.
func (l *Limited) Refused() uint64 { return l.refused.Load() }

type limitedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

// CloseWrite half-closes a TCP connection, as net/http does before it closes one it refused
// so that the client reads the reply rather than a reset.
func (c *limitedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}
