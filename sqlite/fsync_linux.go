package sqlite

import (
	"os"
	"syscall"
)

// syncLog makes what was written to the log durable. fdatasync, as SQLite itself syncs its
// log on Linux: it flushes the data and what is needed to read it back (the file's size),
// without the timestamps that fsync would also write to the journal.
func syncLog(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		for {
			if serr = syscall.Fdatasync(int(fd)); serr != syscall.EINTR {
				return
			}
		}
	}); err != nil {
		return err
	}
	if serr != nil {
		return &os.PathError{Op: "fdatasync", Path: f.Name(), Err: serr}
	}
	return nil
}
