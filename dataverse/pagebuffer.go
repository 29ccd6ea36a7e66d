package dataverse

import (
	"errors"
	"io"
	"sync"
)

// pageBuffer holds the body of one page of rows; its storage is reused from
// page to page (Export reads every page of a range into the same one).
type pageBuffer struct{ b []byte }

// firstPageChunk and pageChunk bound the pieces in which a body that
// outgrows its buffer is read: from 32 KB, doubling, up to 1 MB, so that a
// small page costs little and a large one few pieces.
const (
	firstPageChunk = 32 << 10
	pageChunk      = 1 << 20
)

// maxPooledPageBuffer bounds the buffers pageBufferPool keeps; a larger one
// (a page of very wide rows) is left to the garbage collector.
const maxPooledPageBuffer = 32 << 20

// pageBufferPool holds the buffers of pages read without a buffer of their
// own (Pager.NextPage into json.RawMessage).
var pageBufferPool = sync.Pool{New: func() any { return new(pageBuffer) }}

// read reads r to its end into p; sizeHint, when above 0, is the body's
// announced length. A body that fits p's storage is read in place. One that
// outgrows it is read on in pieces (firstPageChunk, doubling, up to
// pageChunk) and gathered into a single
// allocation of its exact size plus an eighth, the room the next pages,
// about as long, need. bytes.Buffer doubles instead: for a page of 5,000
// wide rows (8.7 MB) it held the old and the new storage at once (8 and
// 16 MB) after touching every smaller size, which set the export's peak
// memory; this way the first page costs its chunks and one copy.
func (p *pageBuffer) read(r io.Reader, sizeHint int64) error {
	b := p.b[:0]
	if sizeHint > 0 && sizeHint < maxPooledPageBuffer && int64(cap(b)) <= sizeHint {
		b = make([]byte, 0, sizeHint+1) // one byte more, to see the end without growing
	}
	for len(b) < cap(b) {
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if errors.Is(err, io.EOF) {
			p.b = b
			return nil
		}
		if err != nil {
			p.b = b[:0]
			return err
		}
	}
	var chunks [][]byte
	total := len(b)
	for size := firstPageChunk; ; size = min(2*size, pageChunk) {
		c := make([]byte, size)
		n, err := io.ReadFull(r, c)
		if n > 0 {
			chunks = append(chunks, c[:n])
			total += n
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			break
		}
		if err != nil {
			p.b = b[:0]
			return err
		}
	}
	if len(chunks) == 0 {
		p.b = b // the body ended exactly at the end of the storage
		return nil
	}
	grown := make([]byte, total, total+total/8)
	n := copy(grown, b)
	for _, c := range chunks {
		n += copy(grown[n:], c)
	}
	p.b = grown
	return nil
}

// bytes returns the body read last.
func (p *pageBuffer) bytes() []byte { return p.b }
