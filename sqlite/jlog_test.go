package sqlite

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestJlog_read checks what a reader takes from the log: the records of the generation at
// its start, in order, up to the first that is cut short, fails its checksum or belongs to
// another generation.
func TestJlog_read(t *testing.T) {
	es := oddEntries()
	path := filepath.Join(t.TempDir(), "camsd.db")
	l, replay, err := openJlog(path, 0)
	if err != nil || len(replay) != 0 || l.gen != 1 {
		t.Fatalf("openJlog on no file = gen %d, %v, %v; want gen 1, nothing", l.gen, replay, err)
	}
	for _, e := range es {
		if err := l.append([]jentry{e}); err != nil {
			t.Fatal(err)
		}
	}
	file := jlogPaths(path)[1] // generation 1's
	whole := readFile(t, file)
	// Generation 3, in the same file, overwrites its start: two shorter records, then what
	// is left of generation 1's.
	l.next()
	l.next()
	if err := l.append(es[:1]); err != nil {
		t.Fatal(err)
	}
	if err := l.append(es[2:3]); err != nil {
		t.Fatal(err)
	}
	next := readFile(t, file)
	l.close()
	first := len(whole) - len(appendJEntries(nil, es[len(es)-1:])) - jlogHeader // where gen 1's last record starts

	for _, tc := range []struct {
		name string
		data []byte
		gen  uint64
		want []jentry
	}{
		{"whole generation", whole, 1, es},
		{"cut short", whole[:len(whole)-1], 1, es[:len(es)-1]},
		{"checksum fails", flip(whole, first+9), 1, es[:len(es)-1]},
		{"a later generation over an older one", next, 3, []jentry{es[0], es[2]}},
		{"empty", nil, 0, nil},
		{"header only", whole[:jlogHeader-1], 0, nil},
	} {
		gen, got, err := readJlog(tc.data)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if gen != tc.gen || !cmp.Equal(tc.want, got, cmp.AllowUnexported(jentry{})) {
			t.Errorf("%s: gen %d, %d entries; want gen %d, %d entries", tc.name, gen, len(got), tc.gen, len(tc.want))
		}
	}
}

// TestJlog_openSkipsApplied checks that Open's reading of the log hands over only the
// generations that the tables do not have, oldest first, and starts one newer than all.
func TestJlog_openSkipsApplied(t *testing.T) {
	path := filepath.Join(t.TempDir(), "camsd.db")
	l, _, err := openJlog(path, 4) // the tables have generation 4
	if err != nil {
		t.Fatal(err)
	}
	if l.gen != 5 {
		t.Fatalf("gen %d; want 5", l.gen)
	}
	es := oddEntries()
	if err := l.append(es[:2]); err != nil { // generation 5, in file 1
		t.Fatal(err)
	}
	l.next()
	if err := l.append(es[2:]); err != nil { // generation 6, in file 0
		t.Fatal(err)
	}
	l.close()
	for _, tc := range []struct {
		applied uint64
		replay  []jentry
		gen     uint64
	}{{4, es, 7}, {5, es[2:], 7}, {6, nil, 7}, {9, nil, 10}} {
		l, replay, err := openJlog(path, tc.applied)
		if err != nil {
			t.Fatal(err)
		}
		if !cmp.Equal(tc.replay, replay, cmp.AllowUnexported(jentry{})) || l.gen != tc.gen {
			t.Errorf("applied %d: %d entries, gen %d; want %d, %d", tc.applied, len(replay), l.gen, len(tc.replay), tc.gen)
		}
		l.close()
	}
}

// FuzzJlog: whatever the log file holds, reading it does not panic, fails only on entries that
// do not decode in a record whose checksum holds, and takes nothing from after the records
// it read (reading those records alone gives the same).
func FuzzJlog(f *testing.F) {
	l := &jlog{gen: 7}
	var buf []byte
	for _, e := range oddEntries() {
		l.buf = nil
		tmp := filepath.Join(f.TempDir(), "log")
		fh, err := os.Create(tmp)
		if err != nil {
			f.Fatal(err)
		}
		l.f, l.off = [2]*os.File{fh, fh}, 0
		if err := l.append([]jentry{e}); err != nil {
			f.Fatal(err)
		}
		fh.Close()
		buf = append(buf, l.buf...)
	}
	f.Add(buf)
	f.Add(buf[:len(buf)/2])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		gen, es, n, err := readJlogN(data)
		if err != nil {
			if !errors.Is(err, errJlogRecord) {
				t.Fatalf("error %v is not errJlogRecord", err)
			}
			return
		}
		gen2, es2, n2, err := readJlogN(data[:n])
		if err != nil || gen2 != gen || n2 != n || !cmp.Equal(es, es2, cmp.AllowUnexported(jentry{})) {
			t.Fatalf("the %d bytes read alone give gen %d, %d entries, %d bytes, %v; want gen %d, %d entries", n, gen2, len(es2), n2, err, gen, len(es))
		}
	})
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func flip(b []byte, i int) []byte {
	c := append([]byte(nil), b...)
	c[i] ^= 0x40
	return c
}
