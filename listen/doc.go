// Package listen makes the listeners camsd serves on fit to face strangers: a cap on the
// connections a listener holds open (Limit), and TLS whose certificate follows its files
// without a restart (CertFile).
package listen
