package sim_test

import (
	"context"
	"slices"
	"sync"

	"github.com/camsd/camsd"
)

var _ camsd.Outbox = (*fakeOutbox)(nil)

// fakeOutbox is an in-memory Outbox that remembers the keep it was given and fails on demand.
// Given a camsd.Call, it leaves the commit to it as sqlite does: the wait it registers returns
// commitErr.
type fakeOutbox struct {
	mu        sync.Mutex
	msgs      []camsd.Message // oldest first
	keeps     []int           // the keep of every AddMessage
	addErr    error
	commitErr error
	listErr   error
}

func (f *fakeOutbox) AddMessage(_ context.Context, call *camsd.Call, m camsd.Message, keep int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.keeps = append(f.keeps, keep)
	if f.addErr != nil {
		return f.addErr
	}
	if call != nil {
		call.Defer(func() error { return f.commitErr })
	}
	f.msgs = append(f.msgs, m)
	if keep > 0 && len(f.msgs) > keep {
		f.msgs = f.msgs[len(f.msgs)-keep:]
	}
	return nil
}

func (f *fakeOutbox) Messages(_ context.Context, phoneNumber string, limit int) ([]camsd.Message, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.listErr != nil {
		return nil, f.listErr
	}
	var out []camsd.Message
	for _, m := range slices.Backward(f.msgs) {
		if phoneNumber != "" && m.PhoneNumber != phoneNumber {
			continue
		}
		if limit > 0 && len(out) == limit {
			break
		}
		out = append(out, m)
	}
	return out, nil
}
