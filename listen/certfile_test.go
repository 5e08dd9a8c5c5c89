package listen_test

import (
	"bytes"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/camsd/camsd/listen"
	"github.com/camsd/camsd/listen/listentest"
)

// syncBuffer is a log destination the server's goroutines and the test share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// serveTLS completes the handshake of every connection to a loopback listener serving c, and
// returns the listener's address.
func serveTLS(t *testing.T, c *listen.CertFile) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tln := tls.NewListener(ln, c.TLSConfig())
	t.Cleanup(func() { tln.Close() })
	go func() {
		for {
			conn, err := tln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
				_ = conn.(*tls.Conn).Handshake()
			}()
		}
	}()
	return ln.Addr().String()
}

// touch moves both files' modification times by d, as a later write would.
func touch(t *testing.T, d time.Duration, paths ...string) {
	t.Helper()
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, fi.ModTime().Add(d), fi.ModTime().Add(d)); err != nil {
			t.Fatal(err)
		}
	}
}

func TestCertFile(t *testing.T) {
	ca := listentest.NewCA(t)
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	ca.Issue(t, 1001, cert, key)
	logs := &syncBuffer{}
	c, err := listen.LoadCertFile(cert, key, slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	addr := serveTLS(t, c)
	if got := ca.Serial(t, addr); got != 1001 {
		t.Fatalf("serial %d, want 1001", got)
	}

	t.Run("a new pair is served from the next connection", func(t *testing.T) {
		ca.Issue(t, 1002, cert, key)
		touch(t, time.Second, cert, key) // a write a second later, whatever the clock's grain
		if got := ca.Serial(t, addr); got != 1002 {
			t.Fatalf("serial %d, want 1002", got)
		}
	})

	t.Run("a bad pair keeps the old one serving, and says why", func(t *testing.T) {
		other := t.TempDir()
		ca.Issue(t, 1003, filepath.Join(other, "cert.pem"), filepath.Join(other, "key.pem"))
		otherKey, err := os.ReadFile(filepath.Join(other, "key.pem"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(key, otherKey, 0o600); err != nil { // the key of another certificate
			t.Fatal(err)
		}
		touch(t, 2*time.Second, key)
		for range 2 {
			if got := ca.Serial(t, addr); got != 1002 {
				t.Fatalf("serial %d, want the old 1002", got)
			}
		}
		if n := strings.Count(logs.String(), "certificate reload failed"); n != 1 {
			t.Errorf("%d reload failures logged, want 1 until the files change again:\n%s", n, logs)
		}
		if !strings.Contains(logs.String(), "private key does not match public key") {
			t.Errorf("the log does not say why:\n%s", logs)
		}
	})

	t.Run("Reload reads files whose time and size did not change", func(t *testing.T) {
		ca.Issue(t, 1004, cert, key)
		touch(t, 3*time.Second, cert, key)
		if got := ca.Serial(t, addr); got != 1004 {
			t.Fatalf("serial %d, want 1004", got)
		}
		before := stats(t, cert, key)
		ca.Issue(t, 1005, cert, key) // Ed25519: the same sizes
		for i, p := range []string{cert, key} {
			if err := os.Chtimes(p, before[i].ModTime(), before[i].ModTime()); err != nil {
				t.Fatal(err)
			}
		}
		if after := stats(t, cert, key); after[0].Size() != before[0].Size() || after[1].Size() != before[1].Size() {
			t.Fatalf("the new pair's sizes differ: the test cannot hide the change")
		}
		if got := ca.Serial(t, addr); got != 1004 {
			t.Fatalf("serial %d before Reload, want 1004: nothing told the change", got)
		}
		if err := c.Reload(); err != nil {
			t.Fatal(err)
		}
		if got := ca.Serial(t, addr); got != 1005 {
			t.Fatalf("serial %d after Reload, want 1005", got)
		}
	})

	t.Run("TLS 1.1 is refused", func(t *testing.T) {
		conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", addr,
			&tls.Config{RootCAs: ca.Pool, MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11})
		if err == nil {
			conn.Close()
			t.Fatal("a TLS 1.1 handshake succeeded")
		}
	})
}

func stats(t *testing.T, paths ...string) []os.FileInfo {
	t.Helper()
	var out []os.FileInfo
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, fi)
	}
	return out
}

func TestLoadCertFile_errors(t *testing.T) {
	ca := listentest.NewCA(t)
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	ca.Issue(t, 1001, cert, key)
	for _, tc := range []struct{ name, cert, key string }{
		{"missing certificate", filepath.Join(dir, "none.pem"), key},
		{"missing key", cert, filepath.Join(dir, "none.pem")},
		{"swapped", key, cert},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := listen.LoadCertFile(tc.cert, tc.key, nil); err == nil {
				t.Fatal("loaded")
			} else if errors.Is(err, os.ErrNotExist) != strings.HasPrefix(tc.name, "missing") {
				t.Errorf("error %v", err)
			}
		})
	}
}
