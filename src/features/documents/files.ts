import { fileTypeFromBuffer } from 'file-type';
import { controlCharacterIn } from '../imports/fields.ts';

/** The largest document Palier stores: a scanned règlement de copropriété fits, a video does not. */
export const MAX_DOCUMENT_BYTES = 50 * 1024 * 1024;

/**
 * What a document may be, judged by its content with file-type, never by its name. Office
 * documents are zip files; file-type tells them apart by their members. Everything else
 * (HTML, SVG, scripts, executables, plain zips) is refused: a file a browser could run.
 */
const ACCEPTED: Record<string, string> = {
  pdf: 'application/pdf',
  jpg: 'image/jpeg',
  png: 'image/png',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  odt: 'application/vnd.oasis.opendocument.text',
  ods: 'application/vnd.oasis.opendocument.spreadsheet',
};

/** Content types a browser may show inline (« Voir »): PDF and images, never an office file. */
export const INLINE_TYPES = new Set(['application/pdf', 'image/jpeg', 'image/png']);

export type Judged = { ext: string; contentType: string } | { error: string };

export async function judgeDocument(content: Uint8Array): Promise<Judged> {
  if (content.length === 0) return { error: 'le fichier est vide.' };
  if (content.length > MAX_DOCUMENT_BYTES) {
    return { error: `le fichier est trop lourd (${formatSize(MAX_DOCUMENT_BYTES)} au plus).` };
  }
  const detected = await fileTypeFromBuffer(content);
  const contentType = detected ? ACCEPTED[detected.ext] : undefined;
  if (!detected || !contentType) {
    return {
      error:
        'ce type de fichier n’est pas accepté\u00a0: PDF, JPEG, PNG ou document bureautique (docx, xlsx, odt, ods) seulement.',
    };
  }
  return { ext: detected.ext, contentType };
}

export function extensionOf(contentType: string): string {
  return Object.entries(ACCEPTED).find(([, type]) => type === contentType)?.[0] ?? 'bin';
}

/**
 * The name the file had, kept as metadata only: its last path segment, control characters
 * removed, 200 characters at most. It is never used as a path.
 */
export function sanitizeOriginalName(name: string): string {
  const last = name.split(/[/\\]/).pop() ?? '';
  const clean = [...last]
    .filter((ch) => controlCharacterIn(ch) === null)
    .join('')
    .replace(/^[.\s]+/, '')
    .trim()
    .slice(0, 200);
  return clean === '' ? 'document' : clean;
}

/** 1 258 291 → « 1,2 Mo »; under a kilo-octet in octets. */
export function formatSize(bytes: number): string {
  const one = (n: number) => n.toLocaleString('fr-FR', { maximumFractionDigits: 1 });
  if (bytes < 1024) return `${bytes}\u00a0octet${bytes > 1 ? 's' : ''}`;
  if (bytes < 1024 * 1024) return `${one(bytes / 1024)}\u00a0ko`;
  if (bytes < 1024 * 1024 * 1024) return `${one(bytes / (1024 * 1024))}\u00a0Mo`;
  return `${one(bytes / (1024 * 1024 * 1024))}\u00a0Go`;
}

/**
 * A download's file name: the title, with what file systems refuse replaced, then the
 * extension of the content. Both the UTF-8 form (filename*) and an ASCII fallback.
 */
export function contentDisposition(kind: 'attachment' | 'inline', title: string, contentType: string): string {
  const base =
    [...title]
      .map((ch) => (/[/\\:*?"<>|]/.test(ch) || controlCharacterIn(ch) !== null ? '-' : ch))
      .join('')
      .trim()
      .slice(0, 150) || 'document';
  const name = `${base}.${extensionOf(contentType)}`;
  const ascii = name
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^\x20-\x7e]/g, '_')
    .replace(/["\\]/g, '_');
  const encoded = encodeURIComponent(name).replace(
    /['()*]/g,
    (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `${kind}; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}
