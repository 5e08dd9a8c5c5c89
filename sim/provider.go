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
}

// SendCode renders m's text and records it in the outbox. The code counts as delivered once
// the outbox has stored it durably; an outbox error means it was not, and is returned wrapped.
func (p *Provider) SendCode(ctx context.Context, m camsd.CodeMessage) error {
	msg := camsd.Message{
		PhoneNumber: m.PhoneNumber,
		Method:      m.Method,
		Locale:      m.Locale,
		Code:        m.Code,
		Text:        Text(m.Locale, m.Method, m.Code),
		CreatedAt:   p.now().UTC(),
	}
	if err := p.Outbox.AddMessage(ctx, msg, p.keep()); err != nil {
		return fmt.Errorf("sim: capture code message: %w", err)
	}
	return nil
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
