package otp

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"

	"github.com/boombuler/barcode/qr"
)

// quietZone is the blank border, in modules, that the QR specification
// requires around the symbol; phone cameras often fail to lock on without it.
const quietZone = 4

// maxQRSize bounds the image so a request parameter cannot make us allocate
// an arbitrarily large bitmap.
const maxQRSize = 2048

// TOTPQRCodePNG renders uri as a size×size PNG QR code, locally, so the
// secret never leaves the server on its way to a third-party QR service.
// Modules are scaled by a whole number of pixels and centred within a
// white quiet zone, which keeps edges sharp for scanners.
func TOTPQRCodePNG(uri string, size int) ([]byte, error) {
	if size <= 0 || size > maxQRSize {
		return nil, fmt.Errorf("otp: QR code size %d outside 1–%d", size, maxQRSize)
	}
	code, err := qr.Encode(uri, qr.M, qr.Auto)
	if err != nil {
		return nil, fmt.Errorf("otp: encoding QR code: %w", err)
	}
	modules := code.Bounds().Dx()
	scale := size / (modules + 2*quietZone)
	if scale < 1 {
		return nil, fmt.Errorf("otp: QR code needs at least %d pixels, got %d", modules+2*quietZone, size)
	}
	// A two-colour palette makes png write a 1-bit image: small and exact.
	img := image.NewPaletted(image.Rect(0, 0, size, size), color.Palette{color.White, color.Black})
	offset := (size - modules*scale) / 2
	for y := range modules {
		for x := range modules {
			if isDark(code.At(code.Bounds().Min.X+x, code.Bounds().Min.Y+y)) {
				fill(img, offset+x*scale, offset+y*scale, scale)
			}
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("otp: encoding PNG: %w", err)
	}
	return buf.Bytes(), nil
}

func isDark(c color.Color) bool {
	r, g, b, _ := c.RGBA()
	return r+g+b < 3*0x8000
}

func fill(img *image.Paletted, x0, y0, scale int) {
	for y := y0; y < y0+scale; y++ {
		for x := x0; x < x0+scale; x++ {
			img.SetColorIndex(x, y, 1)
		}
	}
}
