package seed

import (
	"errors"
	"fmt"
	"reflect"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// decode parses data into doc and returns the document's AST (nil for an empty file).
//
// github.com/goccy/go-yaml does the reading, rather than gopkg.in/yaml.v3, because its AST
// keeps each node's path and position and its errors carry the offending token: that is what
// lets every error name the line and the path of a value, including errors found after
// decoding (a duplicate key id, a bad policy). It refuses duplicate mapping keys by default,
// and Strict makes unknown fields errors too.
func decode(name string, data []byte, doc *fileDoc) (body ast.Node, err error) {
	// goccy/go-yaml v1.19.2 panics on some malformed input, such as a tag on a list
	// (goccy/go-yaml#735, fixed upstream after this release). A seed file is typed by hand,
	// and a typo in it must be reported, not crash the server.
	defer func() {
		if r := recover(); r != nil {
			body, err = nil, &fileError{file: name, msg: fmt.Sprintf("YAML the decoder cannot read (%v)", r)}
		}
	}()

	file, err := parser.ParseBytes(data, 0)
	if err != nil {
		return nil, decodeError(name, nil, err)
	}
	if len(file.Docs) > 1 {
		line, col := position(file.Docs[1])
		if start := file.Docs[1].Start; start != nil {
			line, col = start.Position.Line, start.Position.Column
		}
		return nil, &fileError{file: name, line: line, col: col, msg: "a second YAML document; a seed file holds one"}
	}
	if len(file.Docs) == 0 || file.Docs[0].Body == nil {
		return nil, nil
	}
	body = file.Docs[0].Body
	if n := firstTag(body); n != nil {
		line, col := position(n)
		return nil, &fileError{file: name, line: line, col: col, path: ourPath(n.GetPath()),
			msg: "YAML tags other than !!str on a value are not supported"}
	}
	if err := yaml.NodeToValue(body, doc, yaml.Strict()); err != nil {
		return nil, decodeError(name, body, err)
	}
	return body, nil
}

// firstTag returns the first tagged node other than a !!str scalar. The decoder panics on
// some (#735 above), and no field of a seed file needs one.
func firstTag(body ast.Node) ast.Node {
	var v tagFinder
	ast.Walk(&v, body)
	return v.found
}

type tagFinder struct{ found ast.Node }

func (v *tagFinder) Visit(n ast.Node) ast.Visitor {
	if v.found != nil {
		return nil
	}
	if t, ok := n.(*ast.TagNode); ok {
		if _, scalar := t.Value.(ast.ScalarNode); t.Start.Value != "!!str" || !scalar {
			v.found = n
			return nil
		}
	}
	return v
}

// decodeError places an error of the YAML parser or decoder (body is nil for the parser's).
func decodeError(name string, body ast.Node, err error) error {
	var ne *nodeError
	if errors.As(err, &ne) {
		line, col := position(ne.node)
		return &fileError{file: name, line: line, col: col, path: ourPath(ne.node.GetPath()), msg: ne.msg}
	}
	var ye yaml.Error
	if !errors.As(err, &ye) || ye.GetToken() == nil {
		return &fileError{file: name, msg: err.Error()}
	}
	tk := ye.GetToken()
	e := &fileError{file: name, line: tk.Position.Line, col: tk.Position.Column, msg: ye.GetMessage()}
	if body == nil {
		return e
	}
	n := newLocator(body).byToken[tk]
	if n == nil {
		return e
	}
	e.path = ourPath(n.GetPath())
	// The decoder's own wording names Go types ("cannot unmarshal string into Go struct field
	// rawAccount.Subscribed of type bool"); the file's author knows YAML, not our structs.
	var te *yaml.TypeError
	var nt *yaml.UnexpectedNodeTypeError
	var ue *yaml.UnknownFieldError
	switch {
	case errors.As(err, &te):
		e.msg = "want " + goTypeName(te.DstType) + ", got " + nodeKind(n)
	case errors.As(err, &nt):
		e.msg = "want " + typeName(nt.Expected) + ", got " + typeName(nt.Actual)
	case errors.As(err, &ue):
		e.msg = "unknown field"
	}
	return e
}

func goTypeName(t reflect.Type) string {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil {
		return "another type"
	}
	switch t.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.Int:
		return "a whole number"
	case reflect.String:
		return "a string"
	case reflect.Slice:
		return "a list"
	case reflect.Struct, reflect.Map:
		return "a mapping"
	}
	return t.Kind().String()
}
