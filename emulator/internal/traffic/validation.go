package traffic

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// ValidationError says which field of a fault rule or of the limits is wrong and why. Field is a
// dotted path inside the object ("trigger.probability", "action.status"); a caller that holds the
// object inside something larger (a scenario file's faults[2]) can prefix it.
type ValidationError struct {
	Field string // dotted path of the field, empty for the object as a whole
	Msg   string // what is wrong and how to fix it
}

// Error names the field and says what is wrong with it.
func (e *ValidationError) Error() string {
	if e.Field == "" {
		return e.Msg
	}
	return e.Field + ": " + e.Msg
}

// Source formats, as error messages name them. Scenario files are YAML that is re-encoded as
// JSON for one strict decoder; their errors must still speak of YAML.
const (
	formatJSON = "JSON"
	formatYAML = "YAML"
)

// decodeStrict decodes one JSON value into v, refusing unknown fields and trailing data, and
// turns encoding/json's errors into ones that name the field. format is what the author wrote
// (formatJSON, or formatYAML for a re-encoded YAML node).
func decodeStrict(data []byte, v any, format string) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return explainDecodeError(err, format)
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("unexpected data after the JSON value; send exactly one object")
	}
	return nil
}

func explainJSONError(err error) error { return explainDecodeError(err, formatJSON) }

func explainDecodeError(err error, format string) error {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		field := typeErr.Field
		return &ValidationError{Field: field, Msg: fmt.Sprintf("got a %s %s, want %s", format, typeErr.Value, jsonTypeName(typeErr.Type.String()))}
	case errors.As(err, &syntaxErr):
		return fmt.Errorf("invalid JSON at byte %d: %s", syntaxErr.Offset, strings.TrimPrefix(syntaxErr.Error(), "json: "))
	case errors.Is(err, io.EOF):
		return errors.New("empty body; send a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("the JSON ends early")
	}
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		return &ValidationError{Msg: "unknown field " + name + "; check its spelling (field names are camelCase)"}
	}
	return errors.New(strings.TrimPrefix(msg, "json: "))
}

// jsonTypeName names a Go type the way a JSON author thinks of it.
func jsonTypeName(goType string) string {
	switch {
	case strings.HasPrefix(goType, "int"), strings.HasPrefix(goType, "uint"):
		return "an integer"
	case strings.HasPrefix(goType, "float"):
		return "a number"
	case goType == "string", goType == "*string":
		return "a string"
	case goType == "bool":
		return "true or false"
	case strings.HasPrefix(goType, "[]"):
		return "an array"
	case strings.HasPrefix(goType, "*int"):
		return "an integer"
	case goType == "time.Time", goType == "*time.Time":
		return "an RFC 3339 time string"
	}
	return "an object"
}
