package webapi

import (
	"bufio"
	"io"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/d365s2s/d365/emulator/internal/schema"
	"github.com/d365s2s/d365/emulator/internal/store"
	"github.com/google/uuid"
)

// jsonWriter streams JSON to a response through a pooled buffer. It writes
// what Dataverse writes: no insignificant whitespace, and only the
// escaping JSON requires (as Json.NET does), so "<" stays "<".
type jsonWriter struct {
	w   *bufio.Writer
	buf []byte // scratch for number formatting
	err error
}

var bufPool = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 16<<10) }}

func newJSONWriter(w io.Writer) *jsonWriter {
	bw := bufPool.Get().(*bufio.Writer)
	bw.Reset(w)
	return &jsonWriter{w: bw, buf: make([]byte, 0, 64)}
}

// flush writes out the buffer and returns it to the pool.
func (j *jsonWriter) flush() error {
	if j.w == nil {
		return j.err
	}
	if err := j.w.Flush(); err != nil && j.err == nil {
		j.err = err
	}
	j.w.Reset(nil)
	bufPool.Put(j.w)
	j.w = nil
	return j.err
}

func (j *jsonWriter) raw(s string) {
	if j.err == nil {
		_, j.err = j.w.WriteString(s)
	}
}

func (j *jsonWriter) byte(b byte) {
	if j.err == nil {
		j.err = j.w.WriteByte(b)
	}
}

const hexDigits = "0123456789abcdef"

// plainByte marks the bytes str copies as they are: printable ASCII other
// than '"' and '\\'. One table load per byte instead of four compares: the
// rows of a page are mostly such bytes.
var plainByte = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// str writes a JSON string.
func (j *jsonWriter) str(s string) {
	if j.err != nil {
		return
	}
	w := j.w
	w.WriteByte('"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if plainByte[c] {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				w.WriteString(s[start:i])
				w.WriteString(`\ufffd`)
				i += size
				start = i
				continue
			}
			i += size
			continue
		}
		w.WriteString(s[start:i])
		switch c {
		case '"':
			w.WriteString(`\"`)
		case '\\':
			w.WriteString(`\\`)
		case '\n':
			w.WriteString(`\n`)
		case '\r':
			w.WriteString(`\r`)
		case '\t':
			w.WriteString(`\t`)
		case '\b':
			w.WriteString(`\b`)
		case '\f':
			w.WriteString(`\f`)
		default:
			w.WriteString(`\u00`)
			w.WriteByte(hexDigits[c>>4])
			w.WriteByte(hexDigits[c&0xf])
		}
		i++
		start = i
	}
	w.WriteString(s[start:])
	_, j.err = w.WriteString(`"`)
}

// key writes `"name":`, preceded by a comma unless first.
func (j *jsonWriter) key(name string, first bool) {
	if !first {
		j.byte(',')
	}
	j.str(name)
	j.byte(':')
}

func (j *jsonWriter) int(n int64) {
	j.buf = strconv.AppendInt(j.buf[:0], n, 10)
	if j.err == nil {
		_, j.err = j.w.Write(j.buf)
	}
}

// etag writes a version as a weak ETag string: "W/\"1234\"".
func (j *jsonWriter) etag(version int64) {
	j.raw(`"W/\"`)
	j.int(version)
	j.raw(`\""`)
}

// etagHeader returns the ETag header value of a version.
func etagHeader(version int64) string { return `W/"` + strconv.FormatInt(version, 10) + `"` }

// value writes a column value as Dataverse serialises it: GUIDs lowercase,
// money and decimals as numbers with their scale, date-times in UTC with
// Z, dates as yyyy-MM-dd, multi-select choices as "1,2", null as null.
func (j *jsonWriter) value(c *schema.Column, v any) {
	switch x := v.(type) {
	case nil:
		j.raw("null")
	case string:
		j.str(x)
	case int64:
		j.int(x)
	case bool:
		if x {
			j.raw("true")
		} else {
			j.raw("false")
		}
	case float64:
		j.buf = strconv.AppendFloat(j.buf[:0], x, 'f', -1, 64)
		if j.err == nil {
			_, j.err = j.w.Write(j.buf)
		}
	case store.Decimal:
		j.raw(x.String())
	case time.Time:
		if c.Behavior == schema.BehaviorDateOnly {
			j.buf = x.AppendFormat(append(j.buf[:0], '"'), "2006-01-02")
		} else {
			j.buf = x.UTC().AppendFormat(append(j.buf[:0], '"'), "2006-01-02T15:04:05Z")
		}
		j.buf = append(j.buf, '"')
		if j.err == nil {
			_, j.err = j.w.Write(j.buf)
		}
	case uuid.UUID:
		j.guid(x)
	case store.Ref:
		j.guid(x.ID)
	case []int64:
		j.buf = j.buf[:0]
		j.buf = append(j.buf, '"')
		for i, n := range x {
			if i > 0 {
				j.buf = append(j.buf, ',')
			}
			j.buf = strconv.AppendInt(j.buf, n, 10)
		}
		j.buf = append(j.buf, '"')
		if j.err == nil {
			_, j.err = j.w.Write(j.buf)
		}
	default:
		j.raw("null")
	}
}

func (j *jsonWriter) guid(id uuid.UUID) {
	// In the scratch buffer: an array on the stack would escape through
	// the writer's interface and cost an allocation per GUID.
	b := append(j.buf[:0], make([]byte, 38)...)
	b[0], b[37] = '"', '"'
	// uuid.UUID.String is lowercase; encode without allocating.
	const hex = "0123456789abcdef"
	pos := 1
	for i, x := range id {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b[pos] = '-'
			pos++
		}
		b[pos], b[pos+1] = hex[x>>4], hex[x&0xf]
		pos += 2
	}
	j.buf = b
	if j.err == nil {
		_, j.err = j.w.Write(b)
	}
}
