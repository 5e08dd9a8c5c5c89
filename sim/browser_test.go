package sim_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/camsd/camsd"
	"github.com/camsd/camsd/sim"
	"github.com/camsd/camsd/sqlite"
	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
)

// chromiumPath returns Debian's Chromium, or skips the test without it. CI installs it
// (.ci/run), so there its absence fails the test instead.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	const msg = "chromium is not installed (apt-get install chromium): the page is not tested in a browser"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// page drives one headless Chromium tab. Every step has its own deadline.
type page struct {
	ctx context.Context // the tab's; no deadline, since that would end the browser
}

func newPage(t *testing.T) *page {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Headless,
		chromedp.NoSandbox, // the tests run as root
		chromedp.DisableGPU,
		chromedp.WindowSize(1100, 800),
		chromedp.UserDataDir(t.TempDir()),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(cancel)
	// The first action starts the browser, which lives as long as that action's context: a
	// deadline there would end it, so a timer bounds the start instead.
	watchdog := time.AfterFunc(30*time.Second, cancel)
	err := chromedp.Do(ctx, chromedp.Navigate("about:blank"))
	if !watchdog.Stop() {
		t.Fatal("chromium did not start within 30 s")
	}
	if err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return &page{ctx: ctx}
}

// do runs the steps within timeout, or fails the test naming what it was doing.
func (p *page) do(t *testing.T, what string, timeout time.Duration, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, timeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// eval evaluates a JavaScript expression within 5 s.
func eval[T any](t *testing.T, p *page, expr string, opts ...chromedp.EvaluateOption) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 5*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, opts...))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// waitFor waits up to timeout for a JavaScript expression to be true.
func (p *page) waitFor(t *testing.T, what string, timeout time.Duration, expr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, timeout+time.Second)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](expr,
		chromedp.WithPollingTimeout(timeout), chromedp.WithPollingInterval(50*time.Millisecond)))
	if err != nil {
		t.Fatalf("waiting until %s (%s): %v", what, expr, err)
	}
}

// codes are the codes the page shows, top to bottom.
const codes = `[...document.querySelectorAll('#messages .code')].map(e => e.textContent)`

// TestPage drives the simulator's page in headless Chromium over a real SQLite outbox, with
// messages sent as the API sends them: the request's writes share commits (a camsd.Call).
func TestPage(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	p := newPage(t)

	db := sqlite.NewDB(filepath.Join(t.TempDir(), "camsd.db"))
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	hub := &sim.Hub{}
	provider := &sim.Provider{Outbox: db, Hub: hub}
	mux := http.NewServeMux()
	mux.Handle("/_sim/", sim.LiveHandler(db, hub, sim.Streams{})) // as httpapi mounts it
	srv := httptest.NewServer(mux)                                // on 127.0.0.1
	t.Cleanup(srv.Close)
	t.Cleanup(hub.Close) // runs first: srv.Close waits for the event streams to end

	send := func(t *testing.T, pr *sim.Provider, phone, method, locale, code string) {
		t.Helper()
		ctx, d := context.Background(), &camsd.Call{}
		m := camsd.CodeMessage{PhoneNumber: phone, Method: method, Locale: locale, Code: code}
		if err := pr.SendCode(ctx, d, m); err != nil {
			t.Fatal(err)
		}
		if err := d.Wait(); err != nil {
			t.Fatal(err)
		}
	}
	send(t, provider, "8613800001111", "sms", "en_US", "246810")
	send(t, provider, "6281200002222", "voice", "id", "135790")

	t.Run("shows the captured messages, newest first", func(t *testing.T) {
		p.do(t, "open /_sim", 10*time.Second, chromedp.Navigate(srv.URL+"/_sim"))
		if got := eval[string](t, p, `location.pathname`); got != "/_sim/" {
			t.Errorf("path %q, want /_sim/ (the redirect)", got)
		}
		p.waitFor(t, "both messages show", 5*time.Second, `document.querySelectorAll('#messages .msg').length === 2`)
		if got := eval[[]string](t, p, codes); !slices.Equal(got, []string{"135790", "246810"}) {
			t.Errorf("codes %q, want [135790 246810]", got)
		}
		got := eval[map[string]string](t, p, `(() => {
			const li = document.querySelector('#messages .msg');
			const text = (s) => li.querySelector(s).textContent;
			return {phone: text('.phone'), method: text('.method'), locale: text('.locale'),
				time: li.querySelector('.time').dateTime, text: text('.text'),
				codeFont: getComputedStyle(li.querySelector('.code')).fontSize,
				textFont: getComputedStyle(li.querySelector('.text')).fontSize};
		})()`)
		want := map[string]string{"phone": "+6281200002222", "method": "Voice", "locale": "id",
			"text": sim.Text("id", "voice", "135790")}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s = %q, want %q", k, got[k], v)
			}
		}
		if _, err := time.Parse(time.RFC3339Nano, got["time"]); err != nil {
			t.Errorf("time %q: %v", got["time"], err)
		}
		var codePx, textPx float64
		fmt.Sscanf(got["codeFont"], "%gpx", &codePx)
		fmt.Sscanf(got["textFont"], "%gpx", &textPx)
		if codePx < 2*textPx {
			t.Errorf("code font %s, text font %s: want the code large", got["codeFont"], got["textFont"])
		}
	})

	t.Run("a new message appears without a reload", func(t *testing.T) {
		p.waitFor(t, "the event stream is open", 5*time.Second, `document.getElementById('status').dataset.status === 'live'`)
		eval[chromedp.Void](t, p, `window.sameDocument = true`)
		send(t, provider, "8613800001111", "sms", "en_US", "802417")
		// Polling is off while the stream is open: the message can only come through it.
		p.waitFor(t, "the new code shows", 5*time.Second, `document.querySelector('#messages .code').textContent === '802417'`)
		if !eval[bool](t, p, `window.sameDocument === true`) {
			t.Error("the page reloaded")
		}
		if got := eval[[]string](t, p, codes); !slices.Equal(got, []string{"802417", "135790", "246810"}) {
			t.Errorf("codes %q", got)
		}
	})

	t.Run("screenshot shows the message", func(t *testing.T) {
		eval[chromedp.Void](t, p, `document.querySelectorAll('.fresh').forEach(e => e.classList.remove('fresh'))`)
		ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
		defer cancel()
		shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // 100: PNG
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(t.ArtifactDir(), "sim-page.png"), shot, 0o644); err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(shot))
		if err != nil {
			t.Fatalf("screenshot is not a PNG: %v", err)
		}
		if b := img.Bounds(); b.Dx() < 800 || b.Dy() < 400 {
			t.Fatalf("screenshot is %v, want at least 800×400", b)
		}
		// The first code's box, in screenshot pixels: its digits must be drawn there, dark on
		// the light background of the page.
		box := eval[struct{ X, Y, W, H, Scale float64 }](t, p, `(() => {
			const r = document.querySelector('#messages .code').getBoundingClientRect();
			return {X: r.x + scrollX, Y: r.y + scrollY, W: r.width, H: r.height, Scale: devicePixelRatio};
		})()`)
		s := box.Scale
		code := image.Rect(int(box.X*s), int(box.Y*s), int((box.X+box.W)*s), int((box.Y+box.H)*s))
		if code.Dx() < 100 || code.Dy() < 25 {
			t.Errorf("the code's box is %v: want it large", code)
		}
		ink := darkPixels(img, code)
		if ink < code.Dx()*code.Dy()/20 {
			t.Errorf("%d dark pixels of %d in the code's box %v: the code is not drawn", ink, code.Dx()*code.Dy(), code)
		}
		all := darkPixels(img, img.Bounds())
		t.Logf("screenshot %v: %d dark pixels, %d of them in the code's box %v", img.Bounds(), all, ink, code)
		if all < ink*3 {
			t.Errorf("%d dark pixels in the page, %d in one code: the rest of the page is blank", all, ink)
		}
	})

	t.Run("copy button copies the code", func(t *testing.T) {
		for _, name := range []string{"clipboard-read", "clipboard-write"} {
			p.do(t, "grant "+name, 5*time.Second, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
				_, err := chromedp.CallBrowser(ctx, browser.SetPermission, browser.SetPermissionParams{
					Permission: &browser.PermissionDescriptor{Name: name},
					Setting:    browser.PermissionSettingGranted,
					Origin:     srv.URL,
				})
				return err
			}))
		}
		p.do(t, "click Copy", 5*time.Second, chromedp.Click(chromedp.CSS(`#messages .msg .copy`)))
		p.waitFor(t, "the button says Copied", 3*time.Second, `document.querySelector('#messages .copy').textContent === 'Copied'`)
		if got := eval[string](t, p, `navigator.clipboard.readText()`, chromedp.EvalAwaitPromise); got != "802417" {
			t.Errorf("clipboard %q, want 802417", got)
		}
		if got := eval[string](t, p, `getComputedStyle(document.querySelector('#messages .code')).userSelect`); got != "all" {
			t.Errorf("code user-select %q, want all", got)
		}
	})

	t.Run("filter by number", func(t *testing.T) {
		p.do(t, "type a number", 5*time.Second, chromedp.SendKeys(chromedp.CSS(`#filter`), "+86 138 0000 1111\r"))
		p.waitFor(t, "only that number shows", 5*time.Second, `(() => {
			const ms = [...document.querySelectorAll('#messages .msg')];
			return ms.length === 2 && ms.every(m => m.dataset.phone === '8613800001111');
		})()`)
		if got := eval[string](t, p, `location.search`); got != "?PhoneNumber=8613800001111" {
			t.Errorf("location.search %q, want the filter in the address", got)
		}
		// Live messages obey the filter too.
		send(t, provider, "6281200002222", "sms", "en_US", "555555")
		send(t, provider, "8613800001111", "sms", "en_US", "777777")
		p.waitFor(t, "the new code to the number shows", 5*time.Second, `document.querySelector('#messages .code').textContent === '777777'`)
		if got := eval[[]string](t, p, codes); !slices.Equal(got, []string{"777777", "802417", "246810"}) {
			t.Errorf("codes %q, want only those to 8613800001111", got)
		}
		p.do(t, "clear the filter", 5*time.Second, chromedp.SendKeys(chromedp.CSS(`#filter`), "\x1b")) // Escape
		p.waitFor(t, "every message shows", 5*time.Second, `document.querySelectorAll('#messages .msg').length === 5`)
	})

	t.Run("message text is text, not markup", func(t *testing.T) {
		const (
			phone = "8613800009999"
			text  = `Your code: <b id="injected">1</b><img src="x" onerror="window.pwned = 1"><script>window.pwned = 2</script> &amp; done`
			code  = `<i id="code-injected">9</i>`
		)
		m := camsd.Message{PhoneNumber: phone, Method: "sms", Locale: "en_US", Code: code, Text: text, CreatedAt: time.Now().UTC()}
		if err := db.AddMessage(context.Background(), nil, m, 0); err != nil {
			t.Fatal(err)
		}
		p.do(t, "filter on the number", 5*time.Second, chromedp.SendKeys(chromedp.CSS(`#filter`), phone+"\r"))
		p.waitFor(t, "the message shows", 5*time.Second, `(() => {
			const ms = document.querySelectorAll('#messages .msg');
			return ms.length === 1 && ms[0].dataset.phone === '`+phone+`';
		})()`)
		got := eval[map[string]any](t, p, `({
			text: document.querySelector('#messages .text').textContent,
			code: document.querySelector('#messages .code').textContent,
			elements: document.querySelectorAll('#injected, #code-injected, #messages img, #messages script, #messages b, #messages i').length,
			pwned: window.pwned === undefined ? 'no' : 'yes',
		})`)
		want := map[string]any{"text": text, "code": code, "elements": float64(0), "pwned": "no"}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s = %v, want %v", k, got[k], v)
			}
		}
	})

	t.Run("without live events the page polls", func(t *testing.T) {
		plain := httptest.NewServer(sim.Handler(db))
		defer plain.Close()
		p.do(t, "open the page", 10*time.Second, chromedp.Navigate(plain.URL+"/_sim/?PhoneNumber=8613800002222"))
		p.waitFor(t, "polling", 5*time.Second, `document.getElementById('status').dataset.status === 'polling'`)
		p.waitFor(t, "the empty state", 5*time.Second, `!document.getElementById('empty').hidden`)
		send(t, &sim.Provider{Outbox: db}, "8613800002222", "voice", "en_US", "424242")
		p.waitFor(t, "the new code shows", 8*time.Second, `document.querySelector('#messages .code')?.textContent === '424242'`)
		p.do(t, "leave the page", 5*time.Second, chromedp.Navigate("about:blank"))
	})
}

// darkPixels counts the pixels of r whose luminance is below half. The screenshot is opaque,
// so RGBA and NRGBA pixels read alike; reading Pix directly keeps this fast under -race.
func darkPixels(img image.Image, r image.Rectangle) int {
	r = r.Intersect(img.Bounds())
	dark := func(cr, cg, cb uint32) bool { return 299*cr+587*cg+114*cb < 1000*128 }
	var pix []uint8
	var offset func(x, y int) int
	switch m := img.(type) {
	case *image.RGBA:
		pix, offset = m.Pix, m.PixOffset
	case *image.NRGBA:
		pix, offset = m.Pix, m.PixOffset
	}
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if pix != nil {
				i := offset(x, y)
				if dark(uint32(pix[i]), uint32(pix[i+1]), uint32(pix[i+2])) {
					n++
				}
				continue
			}
			cr, cg, cb, _ := img.At(x, y).RGBA()
			if dark(cr>>8, cg>>8, cb>>8) {
				n++
			}
		}
	}
	return n
}
