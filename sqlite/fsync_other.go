//go:build !linux

package sqlite

import "os"

// syncLog makes what was written to the log durable.
func syncLog(f *os.File) error { return f.Sync() }
