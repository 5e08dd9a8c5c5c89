package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"
)

// heldConn is a keep-alive connection a test holds open between requests.
type heldConn struct {
	net.Conn
	r *bufio.Reader
}

// get sends GET path on c and reads the reply's status.
func (c *heldConn) get(path string) (int, error) {
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: camsd\r\n\r\n", path); err != nil {
		return 0, err
	}
	res, err := http.ReadResponse(c.r, nil)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	_, err = io.Copy(io.Discard, res.Body)
	return res.StatusCode, err
}

func dialHeld(t *testing.T, rawURL string) *heldConn {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.DialTimeout("tcp", u.Host, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &heldConn{Conn: c, r: bufio.NewReader(c)}
}

// closedAtOnce says whether the server closed c without a byte: it reads until the end of
// the stream (or a reset), or a 10-second deadline, which means it was left open.
func closedAtOnce(c net.Conn) bool {
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, err := c.Read(make([]byte, 1))
	return n == 0 && err != nil && !errors.Is(err, os.ErrDeadlineExceeded)
}

// TestServe_MaxConns: with --max-conns held open, a new connection is closed at once while
// those held are still served, the admin API (a listener of its own) still answers, and once
// one held connection closes a new client is served again.
func TestServe_MaxConns(t *testing.T) {
	const max = 4
	cfg := testConfig(t)
	cfg.MaxConns = max
	cfg.AdminToken = strings.Repeat("a", 32)
	m := start(t, cfg)

	held := make([]*heldConn, max)
	for i := range held {
		held[i] = dialHeld(t, m.URL)
		// A reply proves the server accepted it, and so counts it.
		if status, err := held[i].get("/healthz"); err != nil || status != 200 {
			t.Fatalf("connection %d under the cap: %d, %v", i, status, err)
		}
	}
	for i := range 3 {
		if c := dialHeld(t, m.URL); !closedAtOnce(c) {
			t.Fatalf("connection %d over the cap was left open", max+i)
		}
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{}}
	if res, err := client.Get(m.URL + "/healthz"); err == nil {
		res.Body.Close()
		t.Fatalf("a client over the cap was served: %s", res.Status)
	}
	for i, c := range held {
		if status, err := c.get("/healthz"); err != nil || status != 200 {
			t.Errorf("held connection %d: %d, %v", i, status, err)
		}
	}
	req, _ := http.NewRequest("GET", m.AdminURL+"/admin/v1/accounts", nil)
	req.Header.Set("Authorization", "Bearer "+cfg.AdminToken)
	if res, err := client.Do(req); err != nil || res.StatusCode != 200 {
		t.Errorf("admin API while the API is full: %v", err)
	} else {
		res.Body.Close()
	}

	// The server notices the close when its read of the idle connection ends.
	held[0].Close()
	for i := 0; ; i++ {
		res, err := client.Get(m.URL + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode != 200 {
				t.Fatalf("after a close: %s", res.Status)
			}
			break
		}
		if i == 500 {
			t.Fatalf("no client served after a held connection closed: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestServe_SignatureMismatchReplySize: SignatureDoesNotMatch for a 1 MiB body, whose V2
// string to sign holds it all percent-encoded twice, answers less than 4 KiB, JSON or XML.
func TestServe_SignatureMismatchReplySize(t *testing.T) {
	m := start(t, testConfig(t))
	for _, format := range []string{"JSON", "XML"} {
		t.Run(format, func(t *testing.T) {
			params := verifyCodeQuery(acmeSpace, migrating, "en_US", "sms")
			params["Format"] = format
			params["Padding"] = strings.Repeat("&", 1<<20/3-2000) // %26 in the body, %2526 in the string to sign
			q := signedV2("POST", acmeKey, "not-the-secret", actionGetVC, params, time.Now(), "big-body-"+format)
			body := q.Encode()
			if len(body) > 1<<20 || len(body) < 1<<20-8000 {
				t.Fatalf("body of %d bytes, want about 1 MiB", len(body))
			}
			r := send(t, "POST", m.URL+"/", strings.NewReader(body), map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
			if r.Status != 400 || !strings.Contains(r.Raw, "SignatureDoesNotMatch") || !strings.Contains(r.Raw, "more bytes]") {
				t.Fatalf("HTTP %d %.300s", r.Status, r.Raw)
			}
			size := len(r.Raw)
			for k, vs := range r.Header {
				for _, v := range vs {
					size += len(k) + len(v) + 4
				}
			}
			if size >= 4096 {
				t.Errorf("reply of %d bytes, headers included", size)
			}
		})
	}
}

// TestServe_MaxEventStreams: --max-event-streams bounds the simulator page's live streams.
func TestServe_MaxEventStreams(t *testing.T) {
	cfg := testConfig(t)
	cfg.MaxEventStreams = 1
	m := start(t, cfg)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{}}
	first, err := client.Get(m.URL + "/_sim/events")
	if err != nil {
		t.Fatal(err)
	}
	defer first.Body.Close() // before the server's Close, which waits for the stream to end
	if first.StatusCode != 200 {
		t.Fatalf("first stream: %s", first.Status)
	}
	// The stream counts before its first byte is sent.
	if _, err := bufio.NewReader(first.Body).ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	second := send(t, "GET", m.URL+"/_sim/events", nil, nil)
	if second.Status != 503 || second.str("Code") != "ServiceUnavailable" || second.Header.Get("Retry-After") == "" {
		t.Errorf("second stream: HTTP %d %s", second.Status, second.Raw)
	}
}
