//go:build ignore

// render draws festa's icon (a forest-gradient pine on the near-black
// background) as SVG and rasterises it with the machine's chromium into the
// PNG and ICO files the pages and the web app manifest point at. Its
// outputs are committed; run it again only to change the drawing:
//
//	go run ./static/src/icons/render.go
//
// It writes into static/icons: favicon.svg (rounded corners, transparent
// outside), icon-192.png and icon-512.png (the same), icon-maskable-512.png
// and icon-maskable-192.png (full bleed, the tree inside the central 80 %
// safe zone), apple-touch-icon.png (180 px, full bleed: iOS rounds it) and
// favicon.ico (16, 32 and 48 px PNGs).
package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"image/png"
	"log"
	"os"
	"path/filepath"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"festa/browsertest"
)

// svg is the icon on a 512 unit square. corner is the background's corner
// radius: rounded for browser tabs, 0 where the platform shapes the icon.
// The tree's farthest point is 180 units from the centre, inside the
// maskable safe circle of radius 204.8 (40 % of 512).
func svg(corner int) string {
	return fmt.Sprintf(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 512 512">
<defs><linearGradient id="g" x1="0.15" y1="1" x2="0.85" y2="0"><stop offset="0" stop-color="#2ea043"/><stop offset="1" stop-color="#39d0d8"/></linearGradient></defs>
<rect width="512" height="512" rx="%d" fill="#0d1117"/>
<path fill="url(#g)" d="M256 84 372 232H318L404 344H286V428H226V344H108L194 232H140Z"/>
<circle cx="372" cy="128" r="26" fill="#39d0d8"/>
</svg>
`, corner)
}

func main() {
	out := filepath.Join("static", "icons")
	if err := os.MkdirAll(out, 0o755); err != nil {
		log.Fatal(err)
	}
	rounded, bleed := svg(112), svg(0)
	write(filepath.Join(out, "favicon.svg"), []byte(rounded))

	chromium, err := browsertest.Find()
	if err != nil {
		log.Fatalf("chromium: %v", err)
	}
	actx, cancel := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromium), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()

	raster := func(src string, size int) []byte {
		var buf []byte
		html := `<!doctype html><html style="margin:0;background:transparent"><body style="margin:0;background:transparent">` +
			`<img style="display:block" width="` + fmt.Sprint(size) + `" height="` + fmt.Sprint(size) +
			`" src="data:image/svg+xml;base64,` + base64.StdEncoding.EncodeToString([]byte(src)) + `"></body></html>`
		err := chromedp.Run(ctx,
			emulation.SetDeviceMetricsOverride(int64(size), int64(size), 1, false),
			emulation.SetDefaultBackgroundColorOverride().WithColor(&cdp.RGBA{R: 0, G: 0, B: 0, A: 0}),
			chromedp.Navigate("data:text/html;base64,"+base64.StdEncoding.EncodeToString([]byte(html))),
			chromedp.WaitReady("img"),
			chromedp.ActionFunc(func(ctx context.Context) error {
				var err error
				buf, err = page.CaptureScreenshot().WithFormat(page.CaptureScreenshotFormatPng).
					WithClip(&page.Viewport{Width: float64(size), Height: float64(size), Scale: 1}).Do(ctx)
				return err
			}),
		)
		if err != nil {
			log.Fatalf("render %d: %v", size, err)
		}
		if img, err := png.Decode(bytes.NewReader(buf)); err != nil || img.Bounds().Dx() != size {
			log.Fatalf("render %d: got a bad PNG (%v)", size, err)
		}
		return buf
	}

	write(filepath.Join(out, "icon-192.png"), raster(rounded, 192))
	write(filepath.Join(out, "icon-512.png"), raster(rounded, 512))
	write(filepath.Join(out, "icon-maskable-192.png"), raster(bleed, 192))
	write(filepath.Join(out, "icon-maskable-512.png"), raster(bleed, 512))
	write(filepath.Join(out, "apple-touch-icon.png"), raster(bleed, 180))
	write(filepath.Join(out, "favicon.ico"), ico(raster(rounded, 16), raster(rounded, 32), raster(rounded, 48)))
}

// ico packs PNG images into an ICO file: a 6-byte header, a 16-byte entry
// per image, then the PNGs as they are (allowed since Windows Vista and by
// every browser).
func ico(pngs ...[]byte) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, [3]uint16{0, 1, uint16(len(pngs))})
	offset := 6 + 16*len(pngs)
	for _, p := range pngs {
		img, err := png.DecodeConfig(bytes.NewReader(p))
		if err != nil {
			log.Fatal(err)
		}
		binary.Write(&b, binary.LittleEndian, struct {
			W, H, Colours, Reserved uint8
			Planes, Bits            uint16
			Size, Offset            uint32
		}{uint8(img.Width), uint8(img.Height), 0, 0, 1, 32, uint32(len(p)), uint32(offset)})
		offset += len(p)
	}
	for _, p := range pngs {
		b.Write(p)
	}
	return b.Bytes()
}

func write(name string, body []byte) {
	if err := os.WriteFile(name, body, 0o644); err != nil {
		log.Fatal(err)
	}
	fmt.Println("wrote", name, len(body), "bytes")
}
