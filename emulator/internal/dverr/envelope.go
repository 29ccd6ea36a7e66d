package dverr

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// The error-detail annotations the envelope carries when Prefer: odata.include-annotations asks
// for them, in the order Dataverse writes them.
const (
	AnnotationCategory       = "Microsoft.PowerApps.CDS.ErrorDetails.ApiExceptionCategory"
	AnnotationHTTPStatusCode = "Microsoft.PowerApps.CDS.ErrorDetails.ApiExceptionHttpStatusCode"
	AnnotationMessageName    = "Microsoft.PowerApps.CDS.ErrorDetails.ApiExceptionMessageName"
	AnnotationHelpLink       = "Microsoft.PowerApps.CDS.HelpLink"
	AnnotationInnerMessage   = "Microsoft.PowerApps.CDS.InnerError.Message"
)

// helpLinkPrefix starts the HelpLink annotation; the code without "0x" and "&client=platform"
// follow.
const helpLinkPrefix = "http://go.microsoft.com/fwlink/?LinkID=398563&error=Microsoft.Crm.CrmException%3a"

// AppendEnvelope appends Dataverse's error envelope for e to dst:
// {"error":{"code":…,"message":…}}, followed inside "error" by each error-detail annotation for
// which want returns true (none when want is nil) and that has a value. Strings are escaped
// only as JSON requires, as Json.NET does ("<" stays "<"); invalid UTF-8 becomes U+FFFD.
func AppendEnvelope(dst []byte, e *Error, want func(annotation string) bool) []byte {
	dst = append(dst, `{"error":{"code":`...)
	dst = appendString(dst, e.Code)
	dst = append(dst, `,"message":`...)
	dst = appendString(dst, e.Message)
	if want != nil {
		category := "ClientError"
		if e.Status >= 500 {
			category = "ServerError"
		}
		if want(AnnotationCategory) {
			dst = appendString(appendAnnotationName(dst, AnnotationCategory), category)
		}
		if want(AnnotationHTTPStatusCode) {
			dst = append(appendAnnotationName(dst, AnnotationHTTPStatusCode), '"')
			dst = append(strconv.AppendInt(dst, int64(e.Status), 10), '"')
		}
		if name := MessageName(e.Code); name != "" && want(AnnotationMessageName) {
			dst = appendString(appendAnnotationName(dst, AnnotationMessageName), name)
		}
		if want(AnnotationHelpLink) {
			dst = append(appendAnnotationName(dst, AnnotationHelpLink), `"`+helpLinkPrefix...)
			dst = append(appendStringBody(dst, strings.TrimPrefix(e.Code, "0x")), `&client=platform"`...)
		}
		if e.Message != "" && want(AnnotationInnerMessage) {
			dst = appendString(appendAnnotationName(dst, AnnotationInnerMessage), e.Message)
		}
	}
	return append(dst, "}}"...)
}

// appendAnnotationName appends `,"@name":`.
func appendAnnotationName(dst []byte, name string) []byte {
	dst = append(dst, `,"@`...)
	dst = append(dst, name...)
	return append(dst, `":`...)
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string.
func appendString(dst []byte, s string) []byte {
	return append(appendStringBody(append(dst, '"'), s), '"')
}

// appendStringBody appends s escaped for a JSON string, without the quotes.
func appendStringBody(dst []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				dst = append(dst, s[start:i]...)
				dst = append(dst, `\ufffd`...)
				i += size
				start = i
				continue
			}
			i += size
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"':
			dst = append(dst, `\"`...)
		case '\\':
			dst = append(dst, `\\`...)
		case '\n':
			dst = append(dst, `\n`...)
		case '\r':
			dst = append(dst, `\r`...)
		case '\t':
			dst = append(dst, `\t`...)
		case '\b':
			dst = append(dst, `\b`...)
		case '\f':
			dst = append(dst, `\f`...)
		default:
			dst = append(dst, `\u00`...)
			dst = append(dst, hexDigits[c>>4], hexDigits[c&0xf])
		}
		i++
		start = i
	}
	return append(dst, s[start:]...)
}
