package tickets

import (
	"bytes"
	"fmt"

	"github.com/yeqown/go-qrcode/v2"
	"github.com/yeqown/go-qrcode/writer/standard"
)

// QRPNG draws token as a PNG QR code: medium error correction (the token
// is long; M keeps the modules large enough for a cracked phone screen),
// 12-pixel modules and the standard 4-module quiet zone.
func QRPNG(token string) ([]byte, error) {
	qr, err := qrcode.NewWith(token, qrcode.WithErrorCorrectionLevel(qrcode.ErrorCorrectionMedium))
	if err != nil {
		return nil, fmt.Errorf("tickets: qr: %w", err)
	}
	var buf bytes.Buffer
	w := standard.NewWithWriter(nopCloser{&buf},
		standard.WithBuiltinImageEncoder(standard.PNG_FORMAT),
		standard.WithQRWidth(12),
		standard.WithBorderWidth(48),
		standard.WithBgColorRGBHex("#ffffff"),
		standard.WithFgColorRGBHex("#000000"),
	)
	if err := qr.Save(w); err != nil {
		return nil, fmt.Errorf("tickets: qr: %w", err)
	}
	return buf.Bytes(), nil
}

type nopCloser struct{ *bytes.Buffer }

func (nopCloser) Close() error { return nil }
