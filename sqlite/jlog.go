package sqlite

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
)

// jlog is the file that makes the journal durable between two applications of it (see
// journal.go): the writer appends one record per group of writes, the syncer fsyncs it, and
// once the writer has applied the journal to the tables, in a transaction that also records
// the generation it applied up to, it starts the file over with the next generation.
//
// A record is
//
//	length   uint32  of what follows the checksum
//	checksum uint32  CRC-32C of what follows it
//	gen      uint64  the generation
//	seq      uint64  1, 2, ... within the generation
//	entries          the journal entries (appendJEntries)
//
// The file is overwritten in place from its start at each generation, so it keeps the size
// of its largest generation and an fsync rarely has to change the file's size; what follows
// the current generation's records is an older generation's, which a reader tells apart by
// gen and seq. A record cut short by a crash fails its checksum and ends what is read; it was
// never acknowledged, since acknowledgement waits for the fsync of everything written before.
//
// Only the writer's goroutine writes it; the syncer only fsyncs it.
type jlog struct {
	f   *os.File
	gen uint64
	seq uint64
	off int64
	buf []byte
}

const jlogHeader = 4 + 4 + 8 + 8

var crc32c = crc32.MakeTable(crc32.Castagnoli)

var errJlogRecord = errors.New("malformed journal log record")

// openJlog opens (creating it) the log at path and returns it with the entries of its last
// generation, if that generation is newer than applied (the generation the tables have).
// Once those are in the tables, durably, the caller must truncate the log (truncate), so that
// no record of this file, cut short or not, is ever read as one of a later generation.
func openJlog(path string, applied uint64) (*jlog, []jentry, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("open journal log: %w", err)
	}
	data, err := io.ReadAll(f)
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("read journal log: %w", err)
	}
	gen, entries, err := readJlog(data)
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("read journal log: %w", err)
	}
	if gen <= applied {
		entries = nil
	}
	return &jlog{f: f, gen: max(gen, applied) + 1}, entries, nil
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

// append writes es as the next record of the current generation.
func (l *jlog) append(es []jentry) error {
	b := append(l.buf[:0], make([]byte, jlogHeader)...)
	b = appendJEntries(b, es)
	binary.LittleEndian.PutUint32(b, uint32(len(b)-8))
	binary.LittleEndian.PutUint64(b[8:], l.gen)
	binary.LittleEndian.PutUint64(b[16:], l.seq+1)
	binary.LittleEndian.PutUint32(b[4:], crc32.Checksum(b[8:], crc32c))
	l.buf = b
	if _, err := l.f.WriteAt(b, l.off); err != nil {
		return fmt.Errorf("write journal log: %w", err)
	}
	l.seq++
	l.off += int64(len(b))
	return nil
}

// truncate empties the file, durably, and starts the next generation.
func (l *jlog) truncate() error {
	if err := l.f.Truncate(0); err != nil {
		return fmt.Errorf("truncate journal log: %w", err)
	}
	if err := syncLog(l.f); err != nil {
		return fmt.Errorf("truncate journal log: %w", err)
	}
	l.next()
	return nil
}

// next starts the next generation, from the start of the file: every record written so far
// is in the tables, durably.
func (l *jlog) next() {
	l.gen++
	l.seq, l.off = 0, 0
}

func (l *jlog) close() error { return l.f.Close() }
