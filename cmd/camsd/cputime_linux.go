//go:build linux

package main

import (
	"bytes"
	"os"
	"strconv"
	"time"
)

// clockTick is the unit of utime and stime in /proc/<pid>/stat: USER_HZ, which is 100 on
// every Linux architecture Go supports (the kernel keeps it at 100 for userspace whatever its
// own HZ).
const clockTick = 10 * time.Millisecond

// procSnapshot is the CPU time, user and system, that each process named in names has used
// so far, by name and pid, read from /proc/<pid>/stat; ok is false when /proc cannot be read.
func procSnapshot(names ...string) (snap map[string]map[int]time.Duration, ok bool) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil, false
	}
	want := map[string]bool{}
	snap = map[string]map[int]time.Duration{}
	for _, n := range names {
		want[n] = true
		snap[n] = map[int]time.Duration{}
	}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue // it exited meanwhile
		}
		// pid (comm) state ppid ...: comm may hold spaces and parentheses; it ends at the last ')'.
		open, end := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
		if open < 0 || end < open {
			continue
		}
		comm := b[open+1 : end]
		if !want[string(comm)] {
			continue
		}
		f := bytes.Fields(b[end+1:]) // f[0] is field 3 (state): utime is field 14, stime 15
		if len(f) < 13 {
			continue
		}
		ut, err1 := strconv.ParseInt(string(f[11]), 10, 64)
		st, err2 := strconv.ParseInt(string(f[12]), 10, 64)
		if err1 != nil || err2 != nil {
			continue
		}
		snap[string(comm)][pid] = time.Duration(ut+st) * clockTick
	}
	return snap, true
}
