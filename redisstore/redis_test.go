package redisstore_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/camsd/camsd/redisstore"
	"github.com/redis/go-redis/v9"
)

// contractTimeout is the Redis timeout of the tests that are not about timeouts: generous, so
// that a loaded machine running the race detector does not turn a slow reply into a failure.
const contractTimeout = 5 * time.Second

// testURL is the Redis the tests use: $CAMSD_TEST_REDIS, or the one on this machine.
func testURL() string {
	if u := os.Getenv("CAMSD_TEST_REDIS"); u != "" {
		return u
	}
	return "redis://127.0.0.1:6379/0"
}

// open returns a Client on the test Redis, closed when the test ends. When Redis does not
// answer the test is skipped, except in CI (CI=true), where it must run and so fails.
func open(t testing.TB, timeout time.Duration) *redisstore.Client {
	t.Helper()
	c, err := redisstore.Open(testURL(), timeout)
	if err != nil {
		t.Fatalf("Open(%q): %v", testURL(), err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Ping(context.Background()); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no Redis at %s, and CI=true requires it: %v", testURL(), err)
		}
		t.Skipf("no Redis at %s (set CAMSD_TEST_REDIS to point at one): %v", testURL(), err)
	}
	return c
}

// prefix returns a key prefix of the test's own, so that tests running at once, in this
// process or another, never share a key; the keys under it are deleted when the test ends.
func prefix(t testing.TB) string {
	t.Helper()
	b := make([]byte, 8)
	rand.Read(b)
	p := "camsd-test:" + hex.EncodeToString(b) + ":"
	t.Cleanup(func() {
		rdb := rawClient(t)
		ctx := context.Background()
		iter := rdb.Scan(ctx, 0, p+"*", 1000).Iterator()
		for i := 0; i < 100_000 && iter.Next(ctx); i++ {
			rdb.Del(ctx, iter.Val())
		}
	})
	return p
}

// rawClient returns a plain go-redis client on the test Redis, to look at what the package
// stored.
func rawClient(t testing.TB) *redis.Client {
	t.Helper()
	opt, err := redis.ParseURL(testURL())
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { rdb.Close() })
	return rdb
}

// silentServer returns the address of a TCP server on 127.0.0.1 that accepts connections,
// reads what is sent and never replies: a Redis that has stopped answering.
func silentServer(t *testing.T) string {
	return fakeServer(t, func(net.Conn) { /* no reply */ })
}

// erringServer returns the address of a server that answers every command with the error
// line msg, as a Redis that is loading its data set or has become a replica does.
func erringServer(t *testing.T, msg string) string {
	return fakeServer(t, func(c net.Conn) { io.WriteString(c, "-"+msg+"\r\n") })
}

// fakeServer serves connections on 127.0.0.1, calling reply once per RESP command read, until
// the test ends.
func fakeServer(t *testing.T, reply func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu     sync.Mutex
		conns  []net.Conn
		closed bool
		wg     sync.WaitGroup
	)
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		closed = true
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			if closed {
				c.Close()
			}
			conns = append(conns, c)
			mu.Unlock()
			wg.Go(func() {
				r := bufio.NewReader(c)
				for readCommand(r) == nil {
					reply(c)
				}
			})
		}
	})
	return ln.Addr().String()
}

// readCommand reads one RESP command: an array of bulk strings.
func readCommand(r *bufio.Reader) error {
	n, err := readHeader(r, '*')
	if err != nil {
		return err
	}
	for range n {
		size, err := readHeader(r, '$')
		if err != nil {
			return err
		}
		if _, err := r.Discard(size + 2); err != nil {
			return err
		}
	}
	return nil
}

func readHeader(r *bufio.Reader, kind byte) (int, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return 0, err
	}
	if len(line) < 3 || line[0] != kind {
		return 0, errors.New("not RESP: " + line)
	}
	return strconv.Atoi(strings.TrimSpace(line[1:]))
}

// closedPort returns an address on 127.0.0.1 where nothing listens: a Redis that is down.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}
