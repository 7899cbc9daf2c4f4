import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Readable } from 'node:stream';
import PDFDocument from 'pdfkit';

/*
 * Printable documents (statements today, receipts later) drawn with pdfkit: a letterhead, a
 * title, a few facts, one long table, and "page/pages" on every page. Knows nothing of any
 * feature: the caller gives strings, already formatted in French.
 *
 * The whole layout is computed before anything is drawn: row heights and page breaks are
 * known up front, so the page count is printed on every page while the document still
 * streams out page by page (no buffering of the whole file).
 */

const require = createRequire(import.meta.url);

/**
 * DejaVu Sans, shipped by the dejavu-fonts-ttf package: a TrueType font with every accent,
 * « », and the narrow no-break space of French amounts. Embedded (subset) in each file, so
 * the text reads and copies the same everywhere. Loaded once per process, on first use.
 */
let fonts: { regular: Buffer; bold: Buffer } | null = null;
function loadFonts() {
  fonts ??= {
    regular: readFileSync(require.resolve('dejavu-fonts-ttf/ttf/DejaVuSans.ttf')),
    bold: readFileSync(require.resolve('dejavu-fonts-ttf/ttf/DejaVuSans-Bold.ttf')),
  };
  return fonts;
}

export interface PdfColumn {
  header: string;
  /** In points; the columns' widths should add up to CONTENT_WIDTH. */
  width: number;
  align?: 'left' | 'right';
}

export interface PdfRow {
  cells: string[];
  /** Balances and totals stand out from the lines. */
  emphasis?: boolean;
}

export interface PdfReport {
  /** Document properties (shown by viewers, read by indexers). */
  info: { title: string; author: string; subject?: string };
  letterhead: {
    /** PNG or JPEG bytes; anything else is left out. */
    logo: Uint8Array | null;
    /** The first line is the sender's name, in bold. */
    lines: string[];
  };
  /** The addressee block, on the right of the first page. */
  recipient: string[];
  title: string;
  /** Label and value pairs under the title ("Compte", "Période"…). */
  facts: [string, string][];
  table: { columns: PdfColumn[]; rows: PdfRow[]; emptyText?: string };
  /** Under the table on the last page ("Édité le …"). */
  closingNote?: string;
  /** Repeated at the top of every page but the first. */
  runningTitle: string;
  /** "1/3": the page number and count, at the bottom of every page. */
  pageLabel: (page: number, pages: number) => string;
}

const A4 = { width: 595.28, height: 841.89 };
const MARGIN = 40;
export const CONTENT_WIDTH = A4.width - 2 * MARGIN;
const CONTENT_BOTTOM = A4.height - MARGIN - 24;
const FOOTER_Y = A4.height - MARGIN - 8;
const TABLE_SIZE = 8.5;
const TEXT_SIZE = 9.5;
const CELL_PAD_X = 4;
const CELL_PAD_Y = 3;
const LOGO_BOX = { width: 150, height: 60 };

type Doc = PDFKit.PDFDocument;

/** Starts drawing the report and returns the PDF as a stream, to pipe to a response or a file. */
export function renderReport(report: PdfReport): Readable {
  const f = loadFonts();
  const doc = new PDFDocument({
    size: [A4.width, A4.height],
    margins: { top: MARGIN, bottom: MARGIN / 2, left: MARGIN, right: MARGIN },
    autoFirstPage: false,
    info: { Title: report.info.title, Author: report.info.author, Subject: report.info.subject ?? '' },
    lang: 'fr-FR',
    displayTitle: true,
  });
  doc.registerFont('regular', f.regular);
  doc.registerFont('bold', f.bold);
  doc.addPage();
  // Everything is drawn synchronously: the stream only starts flowing once it is read.
  draw(doc, report);
  doc.end();
  return doc;
}

interface LaidRow {
  lines: string[][];
  height: number;
  emphasis: boolean;
}

function draw(doc: Doc, r: PdfReport): void {
  const top = drawFirstPageHead(doc, r);
  const { columns } = r.table;
  setFont(doc, 'regular', TABLE_SIZE);
  const lineHeight = doc.currentLineHeight(true);
  const headerRow = layRow(doc, { cells: columns.map((c) => c.header), emphasis: true }, columns, lineHeight);
  const rows = r.table.rows.map((row) => layRow(doc, row, columns, lineHeight));

  // Page breaks: a row never splits; each page repeats the column headers.
  const pages: LaidRow[][] = [[]];
  let y = top + headerRow.height;
  const nextPageTop = MARGIN + 22 + headerRow.height;
  for (const row of rows) {
    if (y + row.height > CONTENT_BOTTOM && pages[pages.length - 1]!.length > 0) {
      pages.push([]);
      y = nextPageTop;
    }
    pages[pages.length - 1]!.push(row);
    y += row.height;
  }
  setFont(doc, 'regular', TEXT_SIZE);
  const noteHeight = r.closingNote ? doc.currentLineHeight(true) * 2 + 12 : 0;
  const emptyHeight = rows.length === 0 && r.table.emptyText ? doc.currentLineHeight(true) + 12 : 0;
  if (y + noteHeight + emptyHeight > CONTENT_BOTTOM) pages.push([]);
  const count = pages.length;

  pages.forEach((pageRows, i) => {
    let y = top;
    if (i > 0) {
      doc.addPage();
      setFont(doc, 'bold', TEXT_SIZE).fillColor('#000');
      doc.text(r.runningTitle, MARGIN, MARGIN, { lineBreak: false });
      y = MARGIN + 22;
    }
    if (pageRows.length > 0 || i === 0) y = drawRow(doc, headerRow, columns, y, true);
    for (const row of pageRows) y = drawRow(doc, row, columns, y, false);
    if (i === count - 1) {
      setFont(doc, 'regular', TEXT_SIZE).fillColor('#000');
      if (emptyHeight > 0) {
        doc.text(r.table.emptyText!, MARGIN, y + 6, { lineBreak: false });
        y += emptyHeight;
      }
      if (r.closingNote) doc.text(r.closingNote, MARGIN, y + 12, { lineBreak: false });
    }
    setFont(doc, 'regular', 8).fillColor('#444');
    const label = r.pageLabel(i + 1, count);
    doc.text(label, A4.width - MARGIN - measure(doc, label), FOOTER_Y, { lineBreak: false });
  });
}

/** Letterhead, recipient, title and facts; returns where the table starts. */
function drawFirstPageHead(doc: Doc, r: PdfReport): number {
  let y = MARGIN;
  const logo = r.letterhead.logo && imageKind(r.letterhead.logo) ? r.letterhead.logo : null;
  if (logo) {
    try {
      doc.image(Buffer.from(logo), MARGIN, y, { fit: [LOGO_BOX.width, LOGO_BOX.height] });
      y += LOGO_BOX.height + 6;
    } catch {
      // A damaged image leaves the letterhead in text only, never a failed document.
    }
  }
  doc.fillColor('#000');
  r.letterhead.lines.forEach((line, i) => {
    setFont(doc, i === 0 ? 'bold' : 'regular', i === 0 ? 11 : TEXT_SIZE);
    y = textLine(doc, line, MARGIN, y, CONTENT_WIDTH / 2 - 10);
  });

  let ry = MARGIN + (logo ? LOGO_BOX.height + 6 : 0);
  const rx = MARGIN + CONTENT_WIDTH / 2 + 20;
  setFont(doc, 'regular', TEXT_SIZE);
  for (const line of r.recipient) ry = textLine(doc, line, rx, ry, CONTENT_WIDTH / 2 - 20);

  y = Math.max(y, ry) + 18;
  setFont(doc, 'bold', 15);
  y = textLine(doc, r.title, MARGIN, y, CONTENT_WIDTH) + 6;
  const labelWidth = 90;
  for (const [label, value] of r.facts) {
    setFont(doc, 'bold', TEXT_SIZE);
    doc.text(label, MARGIN, y, { lineBreak: false });
    setFont(doc, 'regular', TEXT_SIZE);
    y = textLine(doc, value, MARGIN + labelWidth, y, CONTENT_WIDTH - labelWidth);
  }
  return y + 12;
}

/** Writes text wrapped to the width by hand (so nothing can add a page); returns the y below it. */
function textLine(doc: Doc, text: string, x: number, y: number, width: number): number {
  const h = doc.currentLineHeight(true);
  for (const line of wrap(doc, text, width)) {
    doc.text(line, x, y, { lineBreak: false });
    y += h;
  }
  return y;
}

function layRow(doc: Doc, row: PdfRow, columns: PdfColumn[], lineHeight: number): LaidRow {
  setFont(doc, row.emphasis ? 'bold' : 'regular', TABLE_SIZE);
  const lines = columns.map((c, i) => wrap(doc, row.cells[i] ?? '', c.width - 2 * CELL_PAD_X));
  const count = Math.max(1, ...lines.map((l) => l.length));
  return { lines, height: count * lineHeight + 2 * CELL_PAD_Y, emphasis: row.emphasis ?? false };
}

function drawRow(doc: Doc, row: LaidRow, columns: PdfColumn[], y: number, isHeader: boolean): number {
  if (isHeader || row.emphasis) {
    doc
      .rect(MARGIN, y, CONTENT_WIDTH, row.height)
      .fill(isHeader ? '#e6e6e6' : '#f3f3f3')
      .fillColor('#000');
  }
  setFont(doc, row.emphasis ? 'bold' : 'regular', TABLE_SIZE);
  const lineHeight = doc.currentLineHeight(true);
  let x = MARGIN;
  columns.forEach((c, i) => {
    let ly = y + CELL_PAD_Y;
    for (const line of row.lines[i]!) {
      if (line !== '') {
        const w = measure(doc, line);
        const lx = c.align === 'right' ? x + c.width - CELL_PAD_X - w : x + CELL_PAD_X;
        // The width given saves pdfkit measuring the text once more.
        doc.text(line, lx, ly, { lineBreak: false, textWidth: w } as PDFKit.Mixins.TextOptions);
      }
      ly += lineHeight;
    }
    x += c.width;
  });
  const bottom = y + row.height;
  doc
    .moveTo(MARGIN, bottom)
    .lineTo(MARGIN + CONTENT_WIDTH, bottom)
    .lineWidth(0.4)
    .strokeColor('#999')
    .stroke();
  return bottom;
}

/**
 * Widths of characters in the current font and size, measured once each. pdfkit's own
 * widthOfString shapes the text with fontkit, and every amount or balance of a statement is
 * a new word to shape: summing cached advances instead makes the layout of a 2 000-line
 * statement several times faster. Kerning is left out, which moves a right-aligned amount
 * by a fraction of a point at most; wrapping keeps a margin for it.
 */
const advanceCache = new WeakMap<Doc, Map<string, Map<number, number>>>();
const currentFont = new WeakMap<Doc, string>();

/** Every change of font goes through here, so measure() knows which widths to use. */
function setFont(doc: Doc, name: 'regular' | 'bold', size: number): Doc {
  currentFont.set(doc, `${name}|${size}`);
  return doc.font(name).fontSize(size);
}

function measure(doc: Doc, text: string): number {
  let fonts = advanceCache.get(doc);
  if (!fonts) advanceCache.set(doc, (fonts = new Map()));
  const font = currentFont.get(doc) ?? '';
  let widths = fonts.get(font);
  if (!widths) fonts.set(font, (widths = new Map()));
  let width = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    let w = widths.get(code);
    if (w === undefined) {
      // A character outside the BMP takes two code units: measured as a whole, once.
      const isPair = code >= 0xd800 && code <= 0xdbff && i + 1 < text.length;
      w = doc.widthOfString(isPair ? text.slice(i, i + 2) : text[i]!);
      if (!isPair) widths.set(code, w);
    }
    if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) i++;
    width += w;
  }
  return width;
}

const WRAP_MARGIN = 1.5;

/** Greedy word wrap with the current font; a word longer than the width is cut. */
export function wrap(doc: Doc, text: string, maxWidth: number): string[] {
  const width = maxWidth - WRAP_MARGIN;
  if (text === '' || measure(doc, text) <= width) return [text];
  const out: string[] = [];
  let line = '';
  for (const word of text.split(/ +/)) {
    const candidate = line === '' ? word : `${line} ${word}`;
    if (measure(doc, candidate) <= width) {
      line = candidate;
      continue;
    }
    if (line !== '') out.push(line);
    line = word;
    while (measure(doc, line) > width && line.length > 1) {
      let cut = line.length - 1;
      while (cut > 1 && measure(doc, line.slice(0, cut)) > width) cut--;
      out.push(line.slice(0, cut));
      line = line.slice(cut);
    }
  }
  if (line !== '') out.push(line);
  return out;
}

/** pdfkit draws PNG and JPEG only: an SVG logo is left out of the document. */
function imageKind(bytes: Uint8Array): 'png' | 'jpg' | null {
  if (bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return 'png';
  if (bytes[0] === 0xff && bytes[1] === 0xd8) return 'jpg';
  return null;
}
