import jsQR from 'jsqr';
import { PNG } from 'pngjs';

/** Reads a QR code back from a PNG data URL, as a banking app's camera would; its bytes as UTF-8. */
export function decodeQrDataUrl(dataUrl: string): string | null {
  const png = PNG.sync.read(Buffer.from(dataUrl.replace(/^data:image\/png;base64,/, ''), 'base64'));
  const code = jsQR(new Uint8ClampedArray(png.data), png.width, png.height);
  return code ? new TextDecoder().decode(new Uint8Array(code.binaryData)) : null;
}
