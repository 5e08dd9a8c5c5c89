package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestServe_Signals runs the camsd binary and stops it with SIGTERM or SIGINT while a request
// is in flight: the request is answered, and camsd exits 0.
func TestServe_Signals(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("signals are POSIX")
	}
	bin := buildCamsd(t)

	for _, tc := range []struct {
		name string
		sig  os.Signal
	}{
		{"SIGTERM", syscall.SIGTERM},
		{"SIGINT", os.Interrupt},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sig := tc.sig
			p := startProcess(t, bin)
			waitHealthy(t, p.url)

			// A request is in flight when the signal comes: its handler is waiting for the
			// body, as the server's "100 Continue" shows (a connection merely dialled may
			// still be in the listen queue, which closing the listener drops).
			body := "Action=GetMigrationVerifyCode&Version=2020-06-06&Format=JSON"
			conn, err := net.DialTimeout("tcp", p.addr, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if err := conn.SetDeadline(time.Now().Add(20 * time.Second)); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(conn, "POST / HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n",
				p.addr, len(body))
			br := bufio.NewReader(conn)
			if status, err := br.ReadString('\n'); err != nil || !strings.HasPrefix(status, "HTTP/1.1 100 ") {
				t.Fatalf("want 100 Continue, got %q, %v", status, err)
			}
			if blank, err := br.ReadString('\n'); err != nil || blank != "\r\n" {
				t.Fatalf("100 Continue: want an empty line, got %q, %v", blank, err)
			}

			if err := p.cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			waitListenerClosed(t, p.addr)
			if _, err := io.WriteString(conn, body); err != nil {
				t.Fatalf("finish the in-flight request: %v", err)
			}
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatalf("the in-flight request got no reply: %v\nstderr:\n%s", err, p.stderr.String())
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 400 || !strings.Contains(string(b), `"Code":"IncompleteSignature"`) {
				t.Errorf("in-flight reply: HTTP %d %s", resp.StatusCode, b)
			}

			select {
			case <-p.exited:
				if code := p.cmd.ProcessState.ExitCode(); code != 0 {
					t.Errorf("exit code %d after %s, want 0\nstderr:\n%s", code, sig, p.stderr.String())
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("camsd still running 10s after %s\nstderr:\n%s", sig, p.stderr.String())
			}
		})
	}
}

// process is a running camsd binary.
type process struct {
	cmd       *exec.Cmd
	url, addr string
	stderr    *stderrWatch
	exited    chan struct{} // closed once Wait returned
}

// startProcess starts `camsd serve [args]` on a random loopback port with a fresh data
// directory and none of the CAMSD_* variables of the test's environment, and waits for its "serving" log
// line. The process is killed at the end of the test if it is still running.
func startProcess(t *testing.T, bin string, args ...string) *process {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"serve", "--listen", "127.0.0.1:0", "--data-dir", t.TempDir()}, args...)...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CAMSD_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	w := &stderrWatch{serving: make(chan string, 1)}
	cmd.Stderr = w
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd, stderr: w, exited: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			_ = cmd.Process.Kill()
			<-p.exited
		}
	})
	select {
	case p.url = <-w.serving:
	case <-p.exited:
		t.Fatalf("camsd exited before serving\nstderr:\n%s", w.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("no serving line in 30s\nstderr:\n%s", w.String())
	}
	p.addr = strings.TrimPrefix(p.url, "http://")
	return p
}

// stderrWatch keeps what camsd logs and hands on the url of its "serving" line.
type stderrWatch struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	scanned int         // bytes of buf already split into lines
	serving chan string // receives the url once
}

func (w *stderrWatch) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	for {
		rest := w.buf.Bytes()[w.scanned:]
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			return len(p), nil
		}
		w.scanned += i + 1
		var line struct{ Msg, URL string }
		if json.Unmarshal(rest[:i], &line) == nil && line.Msg == "serving" && line.URL != "" {
			select {
			case w.serving <- line.URL:
			default:
			}
		}
	}
}

func (w *stderrWatch) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// waitHealthy waits until GET /healthz answers 200, for at most 10 seconds.
func waitHealthy(t *testing.T, url string) {
	t.Helper()
	c := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := c.Get(url + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("/healthz not 200 within 10s (last: %v)", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitListenerClosed waits until addr refuses connections, which camsd's shutdown does first,
// for at most 10 seconds.
func waitListenerClosed(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatalf("%s still accepts connections 10s after the signal", addr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
