package archive

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Real Slack exports are not as regular as Slack's documentation: exports
// written before about 2017 quote most numbers ("created": "1452837318",
// "last_set": "0"), other tools write booleans as strings, timestamps as
// JSON numbers, null for missing objects, "file" where later exports
// write "files". The types here read every such form of the few fields the
// archive uses; whatever they still cannot read costs that one value (it
// is named in the import report), never the message, the file or the
// import. Fields the archive does not use are not declared, so they cannot
// fail.

// lenientInt is a number as exports write it: 1452837318, "1452837318",
// 1.452837318e9, "1452837318.000200" (whole seconds kept), "" or null (0).
// A value that is no number at all leaves 0 and sets junk.
type lenientInt struct {
	N    int64
	junk string // what could not be read, for the import report
}

func (n *lenientInt) UnmarshalJSON(b []byte) error {
	n.N, n.junk = 0, ""
	s, kind := scalar(b)
	switch kind {
	case "null":
		return nil
	case "string", "number":
		s = strings.TrimSpace(s)
		if s == "" {
			return nil
		}
		if v, err := strconv.ParseInt(s, 10, 64); err == nil {
			n.N = v
			return nil
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil && f >= -1<<62 && f <= 1<<62 {
			n.N = int64(f)
			return nil
		}
	}
	n.junk = describe(b, "a number")
	return nil
}

func (n lenientInt) MarshalJSON() ([]byte, error) { return strconv.AppendInt(nil, n.N, 10), nil }

// lenientBool is a boolean as exports write it: true, "true", "1", 1, ""
// or null (false). A value that is no boolean leaves false and sets junk.
type lenientBool struct {
	B    bool
	junk string
}

func (v *lenientBool) UnmarshalJSON(b []byte) error {
	v.B, v.junk = false, ""
	s, kind := scalar(b)
	switch kind {
	case "null":
		return nil
	case "bool", "string", "number":
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "true", "1", "yes":
			v.B = true
			return nil
		case "false", "0", "no", "":
			return nil
		}
	}
	v.junk = describe(b, "true or false")
	return nil
}

func (v lenientBool) MarshalJSON() ([]byte, error) { return strconv.AppendBool(nil, v.B), nil }

// lenientTS is a Slack timestamp ("1452837318.000200") that some tools
// write as a JSON number; the number's own digits are kept, so no
// precision is lost to float64. A value that is neither leaves "" and
// sets junk.
type lenientTS struct {
	S    string
	junk string
}

func (t *lenientTS) UnmarshalJSON(b []byte) error {
	t.S, t.junk = "", ""
	s, kind := scalar(b)
	switch kind {
	case "null":
		return nil
	case "string", "number":
		t.S = strings.TrimSpace(s)
		return nil
	}
	t.junk = describe(b, "a Slack timestamp")
	return nil
}

func (t lenientTS) MarshalJSON() ([]byte, error) { return json.Marshal(t.S) }

// scalar returns a JSON literal's text (a string unquoted) and its kind:
// "null", "bool", "number", "string", or "" for an object, an array or
// anything unreadable.
func scalar(b []byte) (string, string) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return "", ""
	}
	switch b[0] {
	case 'n':
		return "", "null"
	case 't', 'f':
		return string(b), "bool"
	case '"':
		var s string
		if json.Unmarshal(b, &s) != nil {
			return "", ""
		}
		return s, "string"
	case '{', '[':
		return "", ""
	}
	return string(b), "number"
}

// describe says, for the import report, what value was found where want
// was expected: `{"a":1} where a number was expected`.
func describe(b []byte, want string) string {
	const max = 40
	s := string(bytes.TrimSpace(b))
	if len(s) > max {
		s = s[:max] + "…"
	}
	return fmt.Sprintf("%s where %s was expected", s, want)
}

// problems collects the values of one export file that could not be read,
// for the import report.
type problems struct {
	file  string
	count int
	notes []string       // at most maxProblemNotes
	bound *boundedReader // bounds each entry of the list; nil: unbounded
}

// maxProblemNotes bounds how many problems the import report names one by
// one; the rest are counted.
const maxProblemNotes = 50

// add records that field of what (a message, a channel, a user) could
// not be read: why is a junk description or a decoding error.
func (p *problems) add(what, field, why string) {
	p.count++
	if len(p.notes) < maxProblemNotes {
		p.notes = append(p.notes, fmt.Sprintf("%s: %s: %s: %s (left out)", p.file, what, field, why))
	}
}

// check records each lenient field (named by its JSON path) that held
// junk.
func (p *problems) check(what string, fields ...namedJunk) {
	for _, f := range fields {
		if f.junk != "" {
			p.add(what, f.name, f.junk)
		}
	}
}

type namedJunk struct{ name, junk string }

// decodeErr turns an error of json.Decoder.Decode on one element into a
// problem note and reports whether decoding can go on with the next
// element: a value of the wrong type costs that value (encoding/json
// fills the rest of the element), a syntax error ends the file.
func (p *problems) decodeErr(what string, err error) (goOn bool) {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		field := te.Field
		if field == "" {
			field = "(the whole entry)"
		}
		p.add(what, field, fmt.Sprintf("%s where %s was expected", te.Value, kindOf(te.Type.String())))
		return true
	}
	return false
}

// kindOf names a Go type the way the import report's readers think of it.
func kindOf(goType string) string {
	switch {
	case strings.HasPrefix(goType, "[]"):
		return "a list"
	case goType == "string":
		return "text"
	case strings.Contains(goType, "int") || strings.Contains(goType, "float"):
		return "a number"
	case goType == "bool":
		return "true or false"
	}
	return "an object"
}

// decodeList streams a JSON array of objects from dec, decoding each into
// a fresh *T and handing it to fn with its index. One element of the
// wrong shape costs what could not be read in it (recorded in p); a
// syntax error stops the list and is returned, after fn has seen every
// element before it. A document that is not an array is an error.
func decodeList[T any](dec *json.Decoder, p *problems, what func(v *T, i int) string, fn func(i int, v *T) error) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return fmt.Errorf("not a JSON list (found %v)", tok)
	}
	for i := 0; dec.More(); i++ {
		if p.bound != nil {
			p.bound.startEntry(dec.InputOffset())
		}
		v := new(T)
		if err := dec.Decode(v); err != nil && !p.decodeErr(what(v, i), err) {
			return fmt.Errorf("entry %d: %w", i+1, err)
		}
		if err := fn(i, v); err != nil {
			return err
		}
	}
	_, err = dec.Token() // the closing ]
	return err
}
