package sqlite

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
)

// jlog is the pair of files that makes the journal durable until the writer has applied it
// (see journal.go): the writer appends one record per group of writes, the syncer fsyncs
// them, and when the writer hands the journal over to be applied, in a transaction that also
// records the generation it applied up to, it starts the next generation in the other file.
// Generation g lives in file g%2, so the records being applied stay untouched while the
// next generation is written; the writer starts a generation only once the application of
// the one before the last is durable, so the file it overwrites holds nothing unapplied.
//
// A record is
//
//	length   uint32  of what follows the checksum
//	checksum uint32  CRC-32C of what follows it
//	gen      uint64  the generation
//	seq      uint64  1, 2, ... within the generation
//	entries          the journal entries (appendJEntries)
//
// Each file is overwritten in place from its start at each of its generations, so it keeps
// the size of its largest and an fsync rarely has to change a file's size; what follows the
// records of a file's current generation is an older generation's, which a reader tells
// apart by gen and seq. A record cut short by a crash fails its checksum and ends what is
// read; it was never acknowledged, since acknowledgement waits for the fsync of everything
// written before.
//
// Only the writer's goroutine writes it; the syncer only fsyncs its files.
type jlog struct {
	f   [2]*os.File
	gen uint64
	seq uint64
	off int64
	buf []byte
}

const jlogHeader = 4 + 4 + 8 + 8

var crc32c = crc32.MakeTable(crc32.Castagnoli)

var errJlogRecord = errors.New("malformed journal log record")

// jlogPaths are the log's two files for the database at path.
func jlogPaths(path string) [2]string { return [2]string{path + "-log.0", path + "-log.1"} }

// openJlog opens (creating them) the log's files for the database at path and returns the
// log with the entries of the generations it holds that are newer than applied (the
// generation the tables have), oldest first. Once those are in the tables, durably, the
// caller must truncate the log (truncate), so that no record of these files, cut short or
// not, is ever read as one of a later generation.
func openJlog(path string, applied uint64) (*jlog, []jentry, error) {
	l := &jlog{}
	type held struct {
		gen     uint64
		entries []jentry
	}
	var gens []held
	for i, p := range jlogPaths(path) {
		f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			l.close()
			return nil, nil, fmt.Errorf("open journal log: %w", err)
		}
		l.f[i] = f
		data, err := io.ReadAll(f)
		if err == nil {
			var h held
			if h.gen, h.entries, err = readJlog(data); err == nil {
				gens = append(gens, h)
			}
		}
		if err != nil {
			l.close()
			return nil, nil, fmt.Errorf("read journal log %s: %w", p, err)
		}
	}
	if gens[0].gen > gens[1].gen {
		gens[0], gens[1] = gens[1], gens[0]
	}
	var entries []jentry
	for _, h := range gens {
		if h.gen > applied {
			entries = append(entries, h.entries...)
		}
	}
	l.gen = max(gens[1].gen, applied) + 1
	return l, entries, nil
}

// readJlog returns the generation of the records at the start of data and their entries,
// up to the first record that is cut short, fails its checksum or is not the next of that
// generation. Entries that do not decode in a record whose checksum holds are an error.
func readJlog(data []byte) (gen uint64, entries []jentry, err error) {
	gen, entries, _, err = readJlogN(data)
	return gen, entries, err
}

// readJlogN is readJlog that also says how many bytes of data the records it read take.
func readJlogN(data []byte) (gen uint64, entries []jentry, n int, err error) {
	var seq uint64
	for rest := data; len(rest) >= jlogHeader; {
		size := binary.LittleEndian.Uint32(rest)
		sum := binary.LittleEndian.Uint32(rest[4:])
		if uint64(size) < jlogHeader-8 || uint64(size) > uint64(len(rest)-8) {
			break
		}
		body := rest[8 : 8+size]
		if crc32.Checksum(body, crc32c) != sum {
			break
		}
		g, s := binary.LittleEndian.Uint64(body), binary.LittleEndian.Uint64(body[8:])
		if seq == 0 {
			gen = g
		}
		if g != gen || s != seq+1 {
			break // an older generation's record
		}
		if entries, err = decodeJEntries(entries, body[16:]); err != nil {
			return 0, nil, 0, fmt.Errorf("%w: generation %d record %d: %v", errJlogRecord, g, s, err)
		}
		seq = s
		rest = rest[8+size:]
		n = len(data) - len(rest)
	}
	if seq == 0 {
		gen = 0
	}
	return gen, entries, n, nil
}

// file is the file of the current generation.
func (l *jlog) file() *os.File { return l.f[l.gen%2] }

// append writes es as the next record of the current generation.
func (l *jlog) append(es []jentry) error {
	b := append(l.buf[:0], make([]byte, jlogHeader)...)
	b = appendJEntries(b, es)
	binary.LittleEndian.PutUint32(b, uint32(len(b)-8))
	binary.LittleEndian.PutUint64(b[8:], l.gen)
	binary.LittleEndian.PutUint64(b[16:], l.seq+1)
	binary.LittleEndian.PutUint32(b[4:], crc32.Checksum(b[8:], crc32c))
	l.buf = b
	if _, err := l.file().WriteAt(b, l.off); err != nil {
		return fmt.Errorf("write journal log: %w", err)
	}
	l.seq++
	l.off += int64(len(b))
	return nil
}

// truncate empties both files, durably, and starts the next generation.
func (l *jlog) truncate() error {
	for _, f := range l.f {
		if err := f.Truncate(0); err != nil {
			return fmt.Errorf("truncate journal log: %w", err)
		}
		if err := syncLog(f); err != nil {
			return fmt.Errorf("truncate journal log: %w", err)
		}
	}
	l.next()
	return nil
}

// next starts the next generation, from the start of its file, which must hold nothing
// that is not in the tables, durably.
func (l *jlog) next() {
	l.gen++
	l.seq, l.off = 0, 0
}

func (l *jlog) close() error {
	var errs []error
	for _, f := range l.f {
		if f != nil {
			errs = append(errs, f.Close())
		}
	}
	return errors.Join(errs...)
}
