package seed

import (
	"fmt"
	"strings"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/token"
)

// fileError is a problem in a seed file, shown as
//
//	seed.yaml:12:13: accounts[0].ram_users[0].policies[0]: what is wrong
//
// so that editors and terminals can jump to it.
type fileError struct {
	file      string
	line, col int    // 0 when unknown
	path      string // "" for the document as a whole
	msg       string
}

func (e *fileError) Error() string {
	var b strings.Builder
	b.WriteString(e.file)
	if e.line > 0 {
		fmt.Fprintf(&b, ":%d", e.line)
		if e.col > 0 {
			fmt.Fprintf(&b, ":%d", e.col)
		}
	}
	b.WriteString(": ")
	if e.path != "" {
		b.WriteString(e.path + ": ")
	}
	b.WriteString(e.msg)
	return b.String()
}

// problem is a rule broken by a well-formed file, at a path such as accounts[0].uid. first,
// for duplicates, is the path of the earlier occurrence.
type problem struct {
	path, msg, first string
}

func (p *problem) Error() string { return p.path + ": " + p.msg }

// locator finds where paths and tokens are in the file, to put lines into messages. It is
// built only when there is an error to report.
type locator struct {
	byPath  map[string]ast.Node
	byToken map[*token.Token]ast.Node
}

func newLocator(body ast.Node) *locator {
	l := &locator{byPath: make(map[string]ast.Node), byToken: make(map[*token.Token]ast.Node)}
	if body != nil {
		ast.Walk(l, body)
	}
	return l
}

// Visit records every node. A key, its value and the pair share a path; the last one visited
// (the value) wins, which is where a bad value is.
func (l *locator) Visit(n ast.Node) ast.Visitor {
	l.byPath[n.GetPath()] = n
	if _, ok := l.byToken[n.GetToken()]; !ok {
		l.byToken[n.GetToken()] = n
	}
	if _, ok := n.(*ast.LiteralNode); ok {
		// A | or > block starts at its indicator; the text inside has the same path and a
		// less useful position.
		return nil
	}
	return l
}

// find returns the node at path or, when there is none (a missing field, or a place reached
// through an alias), at the nearest enclosing path.
func (l *locator) find(path string) ast.Node {
	for {
		if n, ok := l.byPath[yamlPath(path)]; ok {
			return n
		}
		if path == "" {
			return nil
		}
		path = parent(path)
	}
}

// yamlPath turns accounts[0].uid into the decoder's $.accounts[0].uid.
func yamlPath(path string) string {
	if path == "" {
		return "$"
	}
	return "$." + path
}

// ourPath turns the decoder's $.accounts[0].uid into accounts[0].uid.
func ourPath(yaml string) string {
	return strings.TrimPrefix(strings.TrimPrefix(yaml, "$"), ".")
}

// parent drops the last element of a path: accounts[0].uid → accounts[0] → accounts → "".
func parent(path string) string {
	i := strings.LastIndexAny(path, ".[")
	if i < 0 {
		return ""
	}
	return path[:i]
}

// position is where n starts. A block mapping's own token is the colon after its first key,
// so its first key stands for it.
func position(n ast.Node) (line, col int) {
	if n == nil {
		return 0, 0
	}
	tk := n.GetToken()
	if m, ok := n.(*ast.MappingNode); ok && !m.IsFlowStyle && len(m.Values) > 0 {
		tk = m.Values[0].Key.GetToken()
	}
	if mv, ok := n.(*ast.MappingValueNode); ok {
		tk = mv.Key.GetToken()
	}
	if tk == nil {
		return 0, 0
	}
	return tk.Position.Line, tk.Position.Column
}
