package store

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	_ "image/gif" // image columns accept GIF
	"image/jpeg"
	"image/png"
	"io"
)

// ThumbnailSize is the side of an image column's thumbnail
// (ImageAttributeMetadata.MaxHeight and MaxWidth, always 144).
const ThumbnailSize = 144

// uploadedImage is what a commit keeps of an image.
type uploadedImage struct {
	thumbnail []byte
	mimeType  string
}

// imageOf decodes the uploaded image (an image is at most 30 MB, and
// decoding needs it whole) and makes its thumbnail.
func (tx *Tx) imageOf(ctx context.Context, token string, parts []uploadPart) (uploadedImage, error) {
	r := &partReader{ctx: ctx, tx: tx, token: token, parts: parts}
	img, format, err := image.Decode(r)
	if err != nil {
		return uploadedImage{}, fileErrorf(FileImageUnreadable,
			"Error occured when processing image. Reason: the uploaded bytes are not a GIF, JPEG or PNG image the emulator can read (%v).", err)
	}
	thumb := Thumbnail(img)
	var b bytes.Buffer
	if format == "jpeg" {
		err = jpeg.Encode(&b, thumb, &jpeg.Options{Quality: 90})
	} else {
		err = png.Encode(&b, thumb)
	}
	if err != nil {
		return uploadedImage{}, fmt.Errorf("store: encode thumbnail: %w", err)
	}
	return uploadedImage{thumbnail: b.Bytes(), mimeType: "image/" + format}, nil
}

// Thumbnail makes an image column's thumbnail as Dataverse describes it
// (https://learn.microsoft.com/power-apps/developer/data-platform/image-column-data):
// the centred square of the shorter side, scaled down to 144×144 when
// larger (a 91×130 image gives 91×91). Each thumbnail pixel is the mean of
// the source pixels it covers (a box filter).
func Thumbnail(src image.Image) image.Image {
	b := src.Bounds()
	side := min(b.Dx(), b.Dy())
	x0 := b.Min.X + (b.Dx()-side)/2
	y0 := b.Min.Y + (b.Dy()-side)/2
	out := min(side, ThumbnailSize)
	dst := image.NewRGBA(image.Rect(0, 0, out, out))
	if side == 0 {
		return dst
	}
	if out == side {
		draw.Draw(dst, dst.Bounds(), src, image.Pt(x0, y0), draw.Src)
		return dst
	}
	for ty := range out {
		sy0, sy1 := y0+ty*side/out, y0+(ty+1)*side/out
		for tx := range out {
			sx0, sx1 := x0+tx*side/out, x0+(tx+1)*side/out
			var r, g, bl, a, n uint64
			for sy := sy0; sy < sy1; sy++ {
				for sx := sx0; sx < sx1; sx++ {
					cr, cg, cb, ca := src.At(sx, sy).RGBA()
					r, g, bl, a, n = r+uint64(cr), g+uint64(cg), bl+uint64(cb), a+uint64(ca), n+1
				}
			}
			dst.Set(tx, ty, color.RGBA64{uint16(r / n), uint16(g / n), uint16(bl / n), uint16(a / n)})
		}
	}
	return dst
}

// partReader reads an upload's parts in order, one part in memory at a
// time.
type partReader struct {
	ctx   context.Context
	tx    *Tx
	token string
	parts []uploadPart
	buf   []byte
}

func (r *partReader) Read(p []byte) (int, error) {
	for len(r.buf) == 0 {
		if len(r.parts) == 0 {
			return 0, io.EOF
		}
		part := r.parts[0]
		r.parts = r.parts[1:]
		if err := r.tx.tx.QueryRowContext(r.ctx, `SELECT "data" FROM "_dv_file_upload_part" WHERE "token" = ? AND "blockid" = ?`, r.token, part.blockID).Scan(&r.buf); err != nil {
			return 0, err
		}
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}
