package traffic

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"
)

// maxReasonLen bounds a reason kept in the log.
const maxReasonLen = 1000

// reasonFromBody finds the reason in words and the error code in the start of an error body:
// Dataverse's envelope {"error":{"code","message"}} gives its message and code; Entra's
// {"error","error_description","error_codes"} gives the description's first sentence
// ("AADSTS7000215: Invalid client secret provided.") and AADSTSnnnn. A body cut off at the
// capture bound is read as far as it goes.
func reasonFromBody(body []byte) (reason, code string) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return "", ""
	}
	if body[0] != '{' {
		// Plain text, as http.Error writes it: its first line.
		line, _, _ := bytes.Cut(body, []byte("\n"))
		return clip(strings.TrimSpace(string(line))), ""
	}
	var doc struct {
		Error            json.RawMessage `json:"error"`
		ErrorDescription string          `json:"error_description"`
		ErrorCodes       []int           `json:"error_codes"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return reasonFromTruncated(body)
	}
	if doc.ErrorDescription != "" {
		if len(doc.ErrorCodes) > 0 {
			code = "AADSTS" + strconv.Itoa(doc.ErrorCodes[0])
		}
		return clip(firstSentence(doc.ErrorDescription)), code
	}
	var env struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	if len(doc.Error) > 0 && doc.Error[0] == '{' && json.Unmarshal(doc.Error, &env) == nil {
		return clip(env.Message), env.Code
	}
	var oauth string
	if json.Unmarshal(doc.Error, &oauth) == nil {
		return clip(oauth), ""
	}
	return "", ""
}

// reasonFromTruncated reads the message of a JSON body cut off at the capture bound.
func reasonFromTruncated(body []byte) (reason, code string) {
	if desc, ok := jsonStringAfter(body, `"error_description":`); ok {
		return clip(firstSentence(desc)), ""
	}
	code, _ = jsonStringAfter(body, `"code":`)
	if msg, ok := jsonStringAfter(body, `"message":`); ok {
		return clip(msg), code
	}
	return "", code
}

// jsonStringAfter decodes the JSON string that follows key in body, as much of it as there is.
func jsonStringAfter(body []byte, key string) (string, bool) {
	i := bytes.Index(body, []byte(key))
	if i < 0 {
		return "", false
	}
	rest := bytes.TrimLeft(body[i+len(key):], " \t\r\n")
	if len(rest) == 0 || rest[0] != '"' {
		return "", false
	}
	// Find the closing quote, skipping escapes; a cut-off string ends where the body ends.
	end := len(rest)
	for j := 1; j < len(rest); j++ {
		if rest[j] == '\\' {
			j++
			continue
		}
		if rest[j] == '"' {
			end = j + 1
			break
		}
	}
	quoted := rest[:end]
	var s string
	if len(quoted) > 1 && quoted[len(quoted)-1] == '"' && json.Unmarshal(quoted, &s) == nil {
		return s, true
	}
	// Cut off: close the string, dropping up to a broken escape ("\u00") at the end.
	open := bytes.TrimSuffix(quoted, []byte(`"`))
	for drop := 0; drop <= 6 && drop < len(open); drop++ {
		candidate := append(open[:len(open)-drop:len(open)-drop], '"')
		if json.Unmarshal(candidate, &s) == nil {
			return s, true
		}
	}
	return "", false
}

// firstSentence returns s up to the end of its first sentence or line: Entra's descriptions
// continue with advice and the Trace ID, Correlation ID and Timestamp lines.
func firstSentence(s string) string {
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i]
	}
	if i := strings.Index(s, ". "); i >= 0 {
		s = s[:i+1]
	}
	return strings.TrimSpace(s)
}

// clip bounds a reason's length without splitting a UTF-8 sequence.
func clip(s string) string {
	if len(s) <= maxReasonLen {
		return s
	}
	cut := maxReasonLen
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// fallbackReason names a refusal nobody explained.
func fallbackReason(status int, h http.Header) string {
	if status == http.StatusUnauthorized && h.Get("WWW-Authenticate") != "" {
		return "Unauthorized: the request's bearer token was missing or not accepted (no reason recorded)"
	}
	if text := http.StatusText(status); text != "" {
		return text
	}
	return "HTTP " + strconv.Itoa(status)
}
