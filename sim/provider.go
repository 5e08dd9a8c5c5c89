package sim

import (
	"context"
	"fmt"
	"time"

	"github.com/camsd/camsd"
)

var _ camsd.Provider = (*Provider)(nil)

// DefaultKeep is how many messages the outbox keeps when Provider.Keep is 0: enough for any
// test run or demo, small enough that a long-running simulator does not grow without bound.
const DefaultKeep = 1000

// Provider "delivers" a code by capturing the message in Outbox.
type Provider struct {
	Outbox camsd.Outbox

	// Keep is how many of the newest messages the outbox retains: 0 means DefaultKeep and a
	// negative value keeps every message.
	Keep int

	// Now is the clock; nil means time.Now.
	Now func() time.Time

	// Hub, if not nil, is told of each captured message once the outbox holds it durably:
	// the page shows it live, and can read it back from the outbox at once.
	Hub *Hub
}

// SendCode renders m's text and records it in the outbox for call. The code counts as
// delivered once the outbox has stored it durably; an outbox error means it was not, and is
// returned wrapped. The Hub hears of the message after it is durable, and not at all if it
// never becomes so.
func (p *Provider) SendCode(ctx context.Context, call *camsd.Call, m camsd.CodeMessage) error {
	msg, keep := p.Record(m)
	if call != nil && p.Hub != nil {
		return p.captureDeferred(ctx, call, msg)
	}
	if err := p.Outbox.AddMessage(ctx, call, msg, keep); err != nil {
		return fmt.Errorf("sim: capture code message: %w", err)
	}
	// Without a call, AddMessage returned after the commit. (With one and no Hub, there is
	// nobody to tell.)
	p.Hub.publish(msg)
	return nil
}

// captureDeferred records msg for a call whose writes share commits: the outbox may return
// before msg is committed and leave the wait to the call. The outbox gets a Call of its own
// instead, whose wait joins call's with the publication behind it, so the request still
// waits once for all its commits, and the Hub hears of msg only after it committed.
func (p *Provider) captureDeferred(ctx context.Context, call *camsd.Call, msg camsd.Message) error {
	added := &camsd.Call{}
	if err := p.Outbox.AddMessage(ctx, added, msg, p.keep()); err != nil {
		return fmt.Errorf("sim: capture code message: %w", err)
	}
	return call.Defer(func() error {
		if err := added.Wait(); err != nil {
			return err
		}
		p.Hub.publish(msg)
		return nil
	})
}

// RecordsIn says whether o is the outbox p records its messages in (camsd.Recorder): a
// Store that is, records a code and its message in one write.
func (p *Provider) RecordsIn(o camsd.Outbox) bool { return p.Outbox == o }

// Record returns the message that delivers m, its text rendered for m's locale and method,
// and how many messages the outbox keeps.
func (p *Provider) Record(m camsd.CodeMessage) (camsd.Message, int) {
	return camsd.Message{
		PhoneNumber: m.PhoneNumber,
		Method:      m.Method,
		Locale:      m.Locale,
		Code:        m.Code,
		Text:        Text(m.Locale, m.Method, m.Code),
		CreatedAt:   p.now().UTC(),
	}, p.keep()
}

// Recorded tells the Hub of msg once the store has recorded it durably (err nil).
func (p *Provider) Recorded(msg camsd.Message, err error) {
	if err == nil {
		p.Hub.publish(msg)
	}
}

func (p *Provider) keep() int {
	switch {
	case p.Keep == 0:
		return DefaultKeep
	case p.Keep < 0:
		return 0 // the Outbox's "keep all"
	}
	return p.Keep
}

func (p *Provider) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}
