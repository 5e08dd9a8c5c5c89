package main

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// clock is a settable clock for the server under test.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// TestFlowControl_EndToEnd: with the server's clock held still, 40 concurrent calls of one
// account see exactly 10 admitted (their outcome is the action's own) and 30 refused with
// System.LimitControl; a second later another 10 are admitted, whichever of the account's
// keys signs them; another account is not affected.
func TestFlowControl_EndToEnd(t *testing.T) {
	clk := &clock{now: time.Now()}
	cfg := testConfig(t)
	m := startAt(t, cfg, clk.Now)

	burst := func(keys [][2]string, space string, n int) (admitted, limited int64) {
		var wg sync.WaitGroup
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				k := keys[i%len(keys)]
				_, err := call(newClient(t, m, k[0], k[1], ""), actionGetVC, verifyCodeQuery(space, notInSpace, "en_US", "sms"))
				switch code := asSDKError(t, err).Code; code {
				case "PhoneNumber.NotFound":
					atomic.AddInt64(&admitted, 1)
				case "System.LimitControl":
					atomic.AddInt64(&limited, 1)
				default:
					t.Errorf("unexpected %s", code)
				}
			}(i)
		}
		wg.Wait()
		return admitted, limited
	}
	acme := [][2]string{{acmeKey, acmeSecret}, {opsKey, opsSecret}}
	if a, l := burst(acme, acmeSpace, 40); a != 10 || l != 30 {
		t.Fatalf("first second: %d admitted, %d limited; want 10 and 30", a, l)
	}
	if a, l := burst([][2]string{{otherKey, otherSecret}}, otherSpace, 5); a != 5 || l != 0 {
		t.Fatalf("another account: %d admitted, %d limited; want 5 and 0", a, l)
	}
	clk.Add(999 * time.Millisecond)
	if a, l := burst(acme, acmeSpace, 5); a != 0 || l != 5 {
		t.Fatalf("999ms later: %d admitted, %d limited; want 0 and 5", a, l)
	}
	clk.Add(time.Millisecond)
	if a, l := burst(acme, acmeSpace, 15); a != 10 || l != 5 {
		t.Fatalf("a second later: %d admitted, %d limited; want 10 and 5", a, l)
	}
}
