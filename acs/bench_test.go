package acs

import (
	"context"
	"github.com/camsd/camsd"
	"net/http"
	"testing"
	"time"
)

// acceptAll is a NonceStore that remembers nothing, so that a benchmark can replay one request.
type acceptAll struct{}

func (acceptAll) Use(context.Context, *camsd.Call, string, string, time.Time) error { return nil }

// BenchmarkAuthenticate measures ParseRequest and Authenticate of a typical CAMS call, signed
// by the official client's signer.
func BenchmarkAuthenticate(b *testing.B) {
	for _, bc := range []struct {
		name string
		req  builder
	}{
		{"V3", v3Case{}},
		{"V2", v2Case{}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			a, _ := newAuthenticator(mustTime(b, testNow))
			a.Nonces = acceptAll{}
			r, body := bc.req.build()
			raw := []byte(body)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				authOnce(b, ctx, a, r, raw)
			}
		})
	}
}

func authOnce(b *testing.B, ctx context.Context, a *Authenticator, r *http.Request, body []byte) {
	req, err := ParseRequest(r, body)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := a.Authenticate(ctx, nil, req); err != nil {
		b.Fatal(err)
	}
}
