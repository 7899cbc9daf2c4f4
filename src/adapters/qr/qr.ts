import QRCode from 'qrcode';

/**
 * A QR code as a PNG data URL, to put in an <img> (the CSP allows data: images): pages need
 * no JavaScript, and the image prints. Byte mode, UTF-8, error correction M (what the EPC
 * recommends for payment codes), a quiet zone of 4 modules.
 */
export function qrPngDataUrl(text: string): Promise<string> {
  return QRCode.toDataURL(text, { errorCorrectionLevel: 'M', margin: 4, scale: 5, type: 'image/png' });
}
