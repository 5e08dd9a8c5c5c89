package sim_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/camsd/camsd"
	"github.com/camsd/camsd/sim"
	"github.com/google/go-cmp/cmp"
)

// capture sends code to phone through p, without a Call.
func capture(t *testing.T, p *sim.Provider, phone, code string) {
	t.Helper()
	m := camsd.CodeMessage{PhoneNumber: phone, Method: "sms", Locale: "en_US", Code: code}
	if err := p.SendCode(context.Background(), nil, m); err != nil {
		t.Fatal(err)
	}
}

// received drains what s holds now, without waiting.
func received(s *sim.Subscription) []string {
	var codes []string
	for {
		select {
		case m, ok := <-s.Messages():
			if !ok {
				return codes
			}
			codes = append(codes, m.Code)
		default:
			return codes
		}
	}
}

func TestHub(t *testing.T) {
	t.Run("subscribers hear each captured message in order", func(t *testing.T) {
		hub := &sim.Hub{}
		p := &sim.Provider{Outbox: &fakeOutbox{}, Hub: hub}
		a, b := hub.Subscribe(), hub.Subscribe()
		defer a.Cancel()
		defer b.Cancel()
		capture(t, p, "8613800001111", "111111")
		capture(t, p, "6281200002222", "222222")
		for _, s := range []*sim.Subscription{a, b} {
			if diff := cmp.Diff([]string{"111111", "222222"}, received(s)); diff != "" {
				t.Errorf("received (-want +got):\n%s", diff)
			}
		}
	})

	t.Run("a slow subscriber loses messages, is told, and does not slow the sender", func(t *testing.T) {
		hub := &sim.Hub{}
		p := &sim.Provider{Outbox: &fakeOutbox{}, Hub: hub}
		slow := hub.Subscribe()
		defer slow.Cancel()
		var sent []string
		done := make(chan struct{})
		go func() {
			defer close(done)
			for i := range 500 {
				m := camsd.CodeMessage{PhoneNumber: "8613800001111", Method: "sms", Locale: "en_US", Code: fmt.Sprintf("%06d", i)}
				if err := p.SendCode(context.Background(), nil, m); err != nil {
					t.Error(err) // not Fatal: this is not the test's goroutine
					return
				}
				sent = append(sent, m.Code)
			}
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("SendCode blocked on a subscriber that does not read")
		}
		got := received(slow)
		if len(got) == 0 || len(got) >= len(sent) {
			t.Fatalf("slow subscriber got %d of %d messages, want some but not all", len(got), len(sent))
		}
		if diff := cmp.Diff(sent[:len(got)], got); diff != "" {
			t.Errorf("kept messages are not the first ones, in order (-want +got):\n%s", diff)
		}
		select {
		case <-slow.Lost():
		default:
			t.Error("Lost did not signal the dropped messages")
		}
	})

	t.Run("Cancel stops delivery", func(t *testing.T) {
		hub := &sim.Hub{}
		p := &sim.Provider{Outbox: &fakeOutbox{}, Hub: hub}
		s := hub.Subscribe()
		s.Cancel()
		s.Cancel() // twice is fine
		capture(t, p, "8613800001111", "111111")
		if got := received(s); len(got) != 0 {
			t.Errorf("received %v after Cancel", got)
		}
	})

	t.Run("Close ends every subscription, present and future", func(t *testing.T) {
		hub := &sim.Hub{}
		p := &sim.Provider{Outbox: &fakeOutbox{}, Hub: hub}
		before := hub.Subscribe()
		hub.Close()
		hub.Close() // twice is fine
		after := hub.Subscribe()
		capture(t, p, "8613800001111", "111111") // publishing to a closed hub is a no-op
		for name, s := range map[string]*sim.Subscription{"before": before, "after": after} {
			if _, ok := <-s.Messages(); ok {
				t.Errorf("subscription made %s Close: Messages is open", name)
			}
			s.Cancel()
		}
	})
}

func TestProvider_SendCode_hub(t *testing.T) {
	msg := camsd.CodeMessage{PhoneNumber: "8613800001234", Method: "sms", Locale: "en_US", Code: "654321"}

	t.Run("with a Call, the hub hears only after the commit", func(t *testing.T) {
		hub := &sim.Hub{}
		s := hub.Subscribe()
		defer s.Cancel()
		p := &sim.Provider{Outbox: &fakeOutbox{}, Hub: hub}
		d := &camsd.Call{}
		if err := p.SendCode(context.Background(), d, msg); err != nil {
			t.Fatal(err)
		}
		if got := received(s); len(got) != 0 {
			t.Fatalf("published %v before the commit", got)
		}
		if err := d.Wait(); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"654321"}, received(s)); diff != "" {
			t.Errorf("after Wait (-want +got):\n%s", diff)
		}
	})

	t.Run("a failed commit is not published", func(t *testing.T) {
		hub := &sim.Hub{}
		s := hub.Subscribe()
		defer s.Cancel()
		boom := errors.New("disk full")
		p := &sim.Provider{Outbox: &fakeOutbox{commitErr: boom}, Hub: hub}
		d := &camsd.Call{}
		if err := p.SendCode(context.Background(), d, msg); err != nil {
			t.Fatal(err)
		}
		if err := d.Wait(); !errors.Is(err, boom) {
			t.Errorf("Wait = %v, want %v", err, boom)
		}
		if got := received(s); len(got) != 0 {
			t.Errorf("published %v", got)
		}
	})

	t.Run("a refused message is not published", func(t *testing.T) {
		hub := &sim.Hub{}
		s := hub.Subscribe()
		defer s.Cancel()
		p := &sim.Provider{Outbox: &fakeOutbox{addErr: errors.New("closed")}, Hub: hub}
		for _, call := range []*camsd.Call{nil, {}} {
			if err := p.SendCode(context.Background(), call, msg); err == nil {
				t.Error("SendCode = nil, want the outbox error")
			}
		}
		if got := received(s); len(got) != 0 {
			t.Errorf("published %v", got)
		}
	})

	t.Run("without a Call, at once", func(t *testing.T) {
		hub := &sim.Hub{}
		s := hub.Subscribe()
		defer s.Cancel()
		capture(t, &sim.Provider{Outbox: &fakeOutbox{}, Hub: hub}, msg.PhoneNumber, msg.Code)
		if diff := cmp.Diff([]string{"654321"}, received(s)); diff != "" {
			t.Errorf("received (-want +got):\n%s", diff)
		}
	})
}
