// Package camsd holds the domain of camsd, a self-hosted, wire-compatible server for Alibaba
// Cloud's Chat App Message Service (product cams, API version 2020-06-06): accounts, access
// keys, RAM users, spaces, phone numbers and verification codes, the interfaces that adapters
// implement (Store, NonceStore, Limiter, Provider, Outbox), and the one error type that the
// protocol layer turns into a wire Code.
//
// This package imports only the standard library. Adapters live in their own packages and
// wiring happens only in cmd/camsd; docs/ARCHITECTURE.md draws the map.
package camsd
