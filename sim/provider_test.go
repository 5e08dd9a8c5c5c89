package sim_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/camsd/camsd"
	"github.com/camsd/camsd/sim"
	"github.com/google/go-cmp/cmp"
)

func TestProvider_SendCode(t *testing.T) {
	// A clock in UTC+8 with a monotonic reading: the captured time must be plain UTC.
	at := time.Date(2026, 3, 1, 9, 30, 0, 123456789, time.FixedZone("CST", 8*3600))
	now := func() time.Time { return at }
	msg := camsd.CodeMessage{PhoneNumber: "8613800001234", Method: "sms", Locale: "zh_CN", Code: "654321"}

	t.Run("captures the rendered message", func(t *testing.T) {
		o := &fakeOutbox{}
		p := &sim.Provider{Outbox: o, Now: now}
		if err := p.SendCode(context.Background(), nil, msg); err != nil {
			t.Fatal(err)
		}
		want := []camsd.Message{{
			PhoneNumber: "8613800001234",
			Method:      "sms",
			Locale:      "zh_CN",
			Code:        "654321",
			Text:        sim.Text("zh_CN", "sms", "654321"),
			CreatedAt:   at.UTC(),
		}}
		if diff := cmp.Diff(want, o.msgs); diff != "" {
			t.Errorf("captured (-want +got):\n%s", diff)
		}
		if got := o.msgs[0].CreatedAt.Location(); got != time.UTC {
			t.Errorf("CreatedAt location = %v, want UTC", got)
		}
	})

	t.Run("retention", func(t *testing.T) {
		for _, tc := range []struct {
			keep, want int
		}{
			{0, sim.DefaultKeep},
			{5, 5},
			{-1, 0}, // the Outbox's "keep all"
		} {
			o := &fakeOutbox{}
			p := &sim.Provider{Outbox: o, Keep: tc.keep, Now: now}
			if err := p.SendCode(context.Background(), nil, msg); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]int{tc.want}, o.keeps); diff != "" {
				t.Errorf("Keep %d: keep passed (-want +got):\n%s", tc.keep, diff)
			}
		}
		if sim.DefaultKeep != 1000 {
			t.Errorf("DefaultKeep = %d, want 1000", sim.DefaultKeep)
		}
	})

	t.Run("an outbox error is returned", func(t *testing.T) {
		boom := errors.New("disk full")
		p := &sim.Provider{Outbox: &fakeOutbox{addErr: boom}, Now: now}
		if err := p.SendCode(context.Background(), nil, msg); !errors.Is(err, boom) {
			t.Errorf("SendCode = %v, want it to wrap %v", err, boom)
		}
	})

	t.Run("the real clock by default", func(t *testing.T) {
		o := &fakeOutbox{}
		before := time.Now()
		if err := (&sim.Provider{Outbox: o}).SendCode(context.Background(), nil, msg); err != nil {
			t.Fatal(err)
		}
		if got := o.msgs[0].CreatedAt; got.Before(before.Add(-time.Second)) || got.After(time.Now()) {
			t.Errorf("CreatedAt = %v, want about %v", got, before)
		}
	})
}
