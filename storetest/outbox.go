package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/camsd/camsd"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// RunOutbox runs the Outbox contract against outboxes made by open, each fresh and empty.
func RunOutbox(t *testing.T, open func(t *testing.T) camsd.Outbox) {
	// add records messages 0 … n-1 in order, alternating between two phone numbers.
	add := func(t *testing.T, o camsd.Outbox, n, keep int) []camsd.Message {
		t.Helper()
		var ms []camsd.Message
		for i := range n {
			m := message(i)
			if err := o.AddMessage(t.Context(), nil, m, keep); err != nil {
				t.Fatalf("AddMessage(%d): %v", i, err)
			}
			ms = append(ms, m)
		}
		return ms
	}
	for _, tc := range []struct {
		name  string
		n     int
		keep  int
		phone string
		limit int
		want  []int // message indexes, in order
	}{
		{"empty", 0, 0, "", 0, nil},
		{"newest first", 4, 0, "", 0, []int{3, 2, 1, 0}},
		{"limit", 4, 0, "", 3, []int{3, 2, 1}},
		{"only the phone number asked for", 5, 0, Number2, 0, []int{3, 1}},
		{"phone number and limit", 5, 0, Number1, 2, []int{4, 2}},
		{"keep the newest", 6, 3, "", 0, []int{5, 4, 3}},
		{"keep, then filter", 6, 3, Number1, 0, []int{4}},
		{"keep one", 3, 1, "", 0, []int{2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := open(t)
			ms := add(t, o, tc.n, tc.keep)
			var want []camsd.Message
			for _, i := range tc.want {
				want = append(want, ms[i])
			}
			got, err := o.Messages(t.Context(), tc.phone, tc.limit)
			if err != nil {
				t.Fatalf("Messages: %v", err)
			}
			if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Messages(%q, %d) (-want +got):\n%s", tc.phone, tc.limit, diff)
			}
		})
	}
	t.Run("with a Call: all there once Wait returns", func(t *testing.T) {
		o := open(t)
		ctx, d := t.Context(), &camsd.Call{}
		var ms []camsd.Message
		for i := range 4 {
			ms = append(ms, message(i))
			if err := o.AddMessage(ctx, d, ms[i], 3); err != nil {
				t.Fatalf("AddMessage(%d): %v", i, err)
			}
		}
		if err := d.Wait(); err != nil {
			t.Fatalf("Wait: %v", err)
		}
		got, err := o.Messages(t.Context(), "", 0)
		if err != nil {
			t.Fatalf("Messages: %v", err)
		}
		if diff := cmp.Diff([]camsd.Message{ms[3], ms[2], ms[1]}, got); diff != "" {
			t.Errorf("Messages (-want +got):\n%s", diff)
		}
	})
	t.Run("keep applies to the whole outbox when it shrinks", func(t *testing.T) {
		o := open(t)
		ms := add(t, o, 5, 0)
		m := message(5)
		if err := o.AddMessage(t.Context(), nil, m, 2); err != nil {
			t.Fatalf("AddMessage: %v", err)
		}
		got, err := o.Messages(t.Context(), "", 0)
		if err != nil {
			t.Fatalf("Messages: %v", err)
		}
		if diff := cmp.Diff([]camsd.Message{m, ms[4]}, got); diff != "" {
			t.Errorf("Messages (-want +got):\n%s", diff)
		}
	})
}

// message returns the i-th test message: even ones to Number1, odd ones to Number2.
func message(i int) camsd.Message {
	number := Number1
	if i%2 == 1 {
		number = Number2
	}
	code := fmt.Sprintf("%06d", i)
	return camsd.Message{
		PhoneNumber: number,
		Method:      "sms",
		Locale:      "en_US",
		Code:        code,
		Text:        "Your verification code is " + code + ".",
		CreatedAt:   T0.Add(time.Duration(i) * time.Second),
	}
}
