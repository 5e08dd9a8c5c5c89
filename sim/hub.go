package sim

import (
	"sync"

	"github.com/camsd/camsd"
)

// subscriptionBuffer is how many messages a subscriber may fall behind before the hub drops
// messages for it: far more than people send codes in the time a page takes to read one.
const subscriptionBuffer = 64

// Hub tells live listeners, such as the page's event stream, of each message the Provider
// captured, once it is durable in the outbox. The zero Hub is ready to use.
//
// Publishing never waits for a listener: the Provider sends codes on behalf of API calls,
// and a stalled browser tab must not slow them down. A listener that falls behind loses
// messages and is told so through Subscription.Lost; the outbox stays the record, so it
// catches up by reading the outbox again.
type Hub struct {
	mu     sync.Mutex
	subs   map[*Subscription]struct{}
	closed bool
}

// Subscription is one listener of a Hub.
type Subscription struct {
	hub  *Hub
	msgs chan camsd.Message
	lost chan struct{}
}

// Subscribe starts a subscription to the messages published from now on. The caller must
// Cancel it when done. After Close, the subscription starts closed.
func (h *Hub) Subscribe() *Subscription {
	s := &Subscription{
		hub:  h,
		msgs: make(chan camsd.Message, subscriptionBuffer),
		lost: make(chan struct{}, 1),
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		close(s.msgs)
		return s
	}
	if h.subs == nil {
		h.subs = make(map[*Subscription]struct{})
	}
	h.subs[s] = struct{}{}
	return s
}

// Close ends every subscription, present and future: their Messages channels are closed.
// A server calls it when it shuts down, since a listener would otherwise hold its
// connection open (http.Server.RegisterOnShutdown).
func (h *Hub) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return
	}
	h.closed = true
	for s := range h.subs {
		close(s.msgs)
	}
	h.subs = nil
}

// publish hands m to every subscriber without waiting: a subscriber whose buffer is full
// loses m and is signalled on its Lost channel. A nil Hub publishes nothing.
func (h *Hub) publish(m camsd.Message) {
	if h == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		select {
		case s.msgs <- m:
		default:
			select {
			case s.lost <- struct{}{}:
			default: // already signalled and not yet read
			}
		}
	}
}

// Messages delivers the messages published since Subscribe, oldest first. It is closed when
// the hub closes, not by Cancel.
func (s *Subscription) Messages() <-chan camsd.Message { return s.msgs }

// Lost receives a value after messages were dropped because Messages was full: the
// subscriber has missed some and should read the outbox again. Values do not accumulate.
func (s *Subscription) Lost() <-chan struct{} { return s.lost }

// Cancel ends the subscription: no more messages are sent to it. It may be called more than
// once, and after the hub closed.
func (s *Subscription) Cancel() {
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	delete(s.hub.subs, s)
}
