package seed

import (
	"errors"
	"fmt"
	"os"

	"github.com/camsd/camsd"
)

// Load reads the seed file at path; errors name it as given.
func Load(path string) (*camsd.Seed, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, data)
}

// Parse reads a seed file; name is the file's name in error messages. An empty file is a seed
// with no accounts.
func Parse(name string, data []byte) (*camsd.Seed, error) {
	var doc fileDoc
	body, err := decode(name, data, &doc)
	if err != nil {
		return nil, err
	}
	s, err := build(&doc)
	if err != nil {
		var p *problem
		if !errors.As(err, &p) {
			return nil, &fileError{file: name, msg: err.Error()}
		}
		l := newLocator(body)
		line, col := position(l.find(p.path))
		msg := p.msg
		if p.first != "" {
			firstLine, _ := position(l.find(p.first))
			msg += fmt.Sprintf(" (first at %s, line %d)", p.first, firstLine)
		}
		return nil, &fileError{file: name, line: line, col: col, path: p.path, msg: msg}
	}
	return s, nil
}
