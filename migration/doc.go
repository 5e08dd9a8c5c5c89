// Package migration holds the business rules of WhatsApp phone-number migration: which
// parameters each action takes and how they are checked, who owns a space, which state a
// number must be in, and how codes are made, rate-limited and handed to the provider. It is
// the one place these rules live; stores only persist and the HTTP layer only translates.
package migration
