package odata

import (
	"fmt"
	"unicode/utf8"
)

// SyntaxError reports a query option that does not parse. Msg is the full
// text Dataverse would return in the error envelope; it usually embeds a
// position and the text being parsed, as ODataLib's messages do.
type SyntaxError struct {
	// Option is the query option the error is in ("$filter", "@p1"…); it is
	// empty when a Parse function for a single option was called directly.
	Option string
	// Pos is the 0-based byte offset in the option's value at which the
	// problem was found, 0 <= Pos <= len(value).
	Pos int
	// Msg is the message, in ODataLib's words.
	Msg string
}

// Error returns Msg.
func (e *SyntaxError) Error() string { return e.Msg }

// The message templates, in ODataLib's words (Microsoft.OData.Core string
// resources). Positions in them count UTF-16 code units from the start of
// the text they quote.
const (
	msgSyntaxError               = "Syntax error at position %d in '%s'."
	msgInvalidCharacter          = "Syntax error: character '%s' is not valid at position %d in '%s'."
	msgUnterminatedString        = "There is an unterminated string literal at position %d in '%s'."
	msgUnterminatedLiteral       = "There is an unterminated literal at position %d in '%s'."
	msgDigitExpected             = "A digit was expected at position %d in '%s'."
	msgExpressionExpected        = "Expression expected at position %d in '%s'."
	msgOpenParenExpected         = "'(' expected at position %d in '%s'."
	msgCloseParenOrComma         = "')' or ',' expected at position %d in '%s'."
	msgCloseParenOrOperator      = "')' or operator expected at position %d in '%s'."
	msgIdentifierExpected        = "An identifier was expected at position %d."
	msgTooDeep                   = "Recursion depth exceeded allowed limit."
	msgRangeVariableDeclared     = "The range variable '%s' has already been declared."
	msgDuplicateParameter        = "Parameter or entity key names must be unique. There is most likely an error in the model."
	msgUnrecognizedLiteral       = "Unrecognized '%s' literal '%s' at '%d' in '%s'."
	msgKeywordExpected           = "'%s' expected at position %d in '%s'."
	msgUnrecognizedWith          = "Unrecognized with '%s' at '%d' in '%s'."
	msgTermNotValid              = "Term '%s' is not valid in a $select or $expand expression."
	msgSystemTokenInSelectExpand = "Found system token '%s' in select or expand clause '%s'."
	msgCountInSelect             = "$count is not allowed in $select option."
	msgNoPropAfterRef            = "No property is allowed after $ref segment."
	msgMissingExpandOption       = "Missing expand option on navigation property '%s'. If a parenthesis expression follows an expanded navigation property, then at least one expand option must be provided."
	msgInvalidNestedTop          = "Top option must be a non-negative integer, it is set to '%s' instead."
	msgInvalidTop                = "Invalid value '%s' for $top query option found. The $top query option requires a non-negative integer value."
	msgInvalidCount              = "Invalid value '%s' for $count query option found. Valid values are 'true, false'."
	msgDuplicateOption           = "Query option '%s' was specified more than once, but it must be specified at most once."
)

// Dataverse's own messages (not ODataLib's).
const (
	// msgOptionNotSupported is what Dataverse answers for a system query
	// option it does not implement, e.g. "The query parameter $skip is not
	// supported". [unverified beyond $skip: the same text is assumed for
	// $search, $format, $levels, $compute and unknown $-options, and for the
	// options Dataverse refuses inside $expand.]
	msgOptionNotSupported = "The query parameter %s is not supported"
	// msgUnsupportedLiteral is used for OData literals that parse in
	// ODataLib but have no Dataverse column type to compare with (duration,
	// binary, geography, geometry, TimeOfDay, JSON objects). [unverified:
	// Dataverse fails later, during binding, with a type error.]
	msgUnsupportedLiteral = "Literal '%s' of type '%s' at position %d in '%s' is not supported."
	// msgInvalidJSON prefixes errors in JSON array literals (PropertyValues
	// of query functions), as Dataverse reports Json.NET failures.
	msgInvalidJSON = "Invalid JSON. %s"
	// msgAggregateNotPath is used when an $apply aggregate expression is not
	// a property path. [unverified]
	msgAggregateNotPath = "The aggregate expression '%s' at position %d in '%s' must be a property path or $count."
)

// utf16Len counts the UTF-16 code units of s, which is how .NET (and so
// ODataLib) counts positions. Invalid UTF-8 bytes count one each.
func utf16Len(s string) int {
	n := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			n++
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
		i += size
	}
	return n
}

// textWindow is the part of an option value that a message quotes: the whole
// value, or the text of an option nested in $expand (ODataLib parses nested
// options as separate strings, so its positions restart there).
type textWindow struct {
	src    string // the whole option value; node offsets index into it
	lo, hi int    // the quoted text is src[lo:hi]
	option string // the query option's name, for SyntaxError.Option
}

func (w *textWindow) text() string { return w.src[w.lo:w.hi] }

// charPos converts a byte offset in src to ODataLib's position in the
// quoted text.
func (w *textWindow) charPos(pos int) int {
	if pos < w.lo {
		return 0
	}
	if pos > w.hi {
		pos = w.hi
	}
	return utf16Len(w.src[w.lo:pos])
}

// fail builds a *SyntaxError at byte offset pos with a message that already
// has every argument filled in.
func (w *textWindow) fail(pos int, msg string) *SyntaxError {
	if pos < 0 {
		pos = 0
	}
	if pos > len(w.src) {
		pos = len(w.src)
	}
	return &SyntaxError{Option: w.option, Pos: pos, Msg: msg}
}

// failAt builds the common "<what> at position N in '<text>'." error.
func (w *textWindow) failAt(pos int, template string) *SyntaxError {
	return w.fail(pos, fmt.Sprintf(template, w.charPos(pos), w.text()))
}

// quoteChar renders a character for the invalid-character message.
func quoteChar(s string, pos int) string {
	r, _ := utf8.DecodeRuneInString(s[pos:])
	return string(r) // an invalid byte shows as U+FFFD, as .NET would decode it
}
