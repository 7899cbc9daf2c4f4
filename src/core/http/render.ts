import type { FastifyReply, FastifyRequest } from 'fastify';
import type { VNode } from 'preact';
import { renderToString } from 'preact-render-to-string';
import type { Agency } from '../agency/agency.repository.ts';
import type { Flash, PageContext } from '../views/layout.tsx';

declare module 'fastify' {
  interface FastifyRequest {
    flash: Flash | null;
  }
}

export function readFlash(req: FastifyRequest, reply: FastifyReply): Flash | null {
  const raw = req.cookies.palier_flash;
  if (!raw) return null;
  reply.clearCookie('palier_flash', { path: '/', secure: req.server.deps.config.secureCookies });
  const unsigned = req.unsignCookie(raw);
  if (!unsigned.valid || !unsigned.value) return null;
  try {
    return JSON.parse(unsigned.value) as Flash;
  } catch {
    return null;
  }
}

/** The agency's identity, from the instance's copy. */
export function agencyOf(req: FastifyRequest): Promise<Agency> {
  return req.server.deps.agency.get();
}

export async function pageContext(req: FastifyRequest, reply: FastifyReply): Promise<PageContext> {
  return {
    agency: await agencyOf(req),
    csrfToken: reply.generateCsrf(),
    user: req.user ? { firstName: req.user.firstName, lastName: req.user.lastName } : null,
    flash: req.flash,
    path: req.url.split('?')[0] ?? '/',
  };
}

/** Renders a full page: views are pure functions of the page context and their props. */
export async function renderPage(
  req: FastifyRequest,
  reply: FastifyReply,
  view: (ctx: PageContext) => VNode,
  status = 200,
): Promise<FastifyReply> {
  const ctx = await pageContext(req, reply);
  return sendPage(reply, `<!doctype html>${renderToString(view(ctx))}`, status);
}

/** A page is HTML and never kept by the browser or a proxy: it shows one person's data. */
function sendPage(reply: FastifyReply, body: string | Buffer, status: number): FastifyReply {
  return reply
    .status(status)
    .header('content-type', 'text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .send(body);
}

/** Where a view asks renderPageWithSlot to put a large fragment made beforehand. */
export const PAGE_SLOT = '<!--palier:slot-->';

/**
 * Renders a page around a large fragment already encoded (a long statement's rows, kept in
 * memory): the page is rendered with PAGE_SLOT where the fragment goes, and the bytes are
 * joined, so the fragment is neither rebuilt nor encoded again for each request.
 */
export async function renderPageWithSlot(
  req: FastifyRequest,
  reply: FastifyReply,
  view: (ctx: PageContext) => VNode,
  slot: Buffer,
  status = 200,
): Promise<FastifyReply> {
  const ctx = await pageContext(req, reply);
  const html = `<!doctype html>${renderToString(view(ctx))}`;
  const at = html.indexOf(PAGE_SLOT);
  const body =
    at < 0
      ? Buffer.from(html)
      : Buffer.concat([Buffer.from(html.slice(0, at)), slot, Buffer.from(html.slice(at + PAGE_SLOT.length))]);
  return sendPage(reply, body, status);
}

/**
 * Where the CSRF token goes in a page kept in memory: letters and dashes only, so neither
 * escaping nor French typography changes it, and a string no view writes.
 */
const CSRF_SLOT = 'palier-csrf-slot-7c1e9a4f';

interface KeptPage {
  stamp: readonly unknown[];
  /** The page's bytes around each place of the CSRF token. */
  parts: Buffer[];
  bytes: number;
}

/**
 * Rendered pages kept by one instance, least recently used first out beyond `maxBytes`.
 * An entry serves only while its stamp (the versions of everything the page shows) is the
 * same: a page is never served older than the data the request itself read.
 */
export class PageCache {
  private readonly pages = new Map<string, KeptPage>();
  private bytes = 0;

  constructor(private readonly maxBytes = 16 * 1024 * 1024) {}

  get(key: string, stamp: readonly unknown[]): Buffer[] | undefined {
    const page = this.pages.get(key);
    if (!page) return undefined;
    this.pages.delete(key);
    if (page.stamp.length !== stamp.length || page.stamp.some((v, i) => v !== stamp[i])) {
      this.bytes -= page.bytes;
      return undefined;
    }
    this.pages.set(key, page);
    return page.parts;
  }

  set(key: string, stamp: readonly unknown[], parts: Buffer[]): void {
    const old = this.pages.get(key);
    if (old) {
      this.pages.delete(key);
      this.bytes -= old.bytes;
    }
    const bytes = parts.reduce((n, p) => n + p.length, 0);
    if (bytes > this.maxBytes) return;
    this.pages.set(key, { stamp, parts, bytes });
    this.bytes += bytes;
    for (const [k, p] of this.pages) {
      if (this.bytes <= this.maxBytes) break;
      this.pages.delete(k);
      this.bytes -= p.bytes;
    }
  }

  get size(): number {
    return this.pages.size;
  }
}

/**
 * Renders a page that depends only on what `stamp` versions, keeping its bytes in `cache`
 * under `key`: the next request with the same stamp costs neither the data nor the
 * rendering, only a new CSRF token. `load` gives the view and runs only when the page is not
 * kept. The agency's identity, the person's name and the path are part of the stamp; a page
 * with a flash message is rendered for the request alone.
 */
export async function renderKeptPage(
  req: FastifyRequest,
  reply: FastifyReply,
  kept: { cache: PageCache; key: string; stamp: readonly unknown[] },
  load: () => Promise<(ctx: PageContext) => VNode>,
): Promise<FastifyReply> {
  if (req.flash) return renderPage(req, reply, await load());
  const ctx = await pageContext(req, reply);
  const stamp = [...kept.stamp, ctx.agency, ctx.path, ctx.user?.firstName, ctx.user?.lastName];
  let parts = kept.cache.get(kept.key, stamp);
  if (!parts) {
    const view = await load();
    const html = `<!doctype html>${renderToString(view({ ...ctx, csrfToken: CSRF_SLOT }))}`;
    parts = html.split(CSRF_SLOT).map((p) => Buffer.from(p));
    kept.cache.set(kept.key, stamp, parts);
  }
  const token = Buffer.from(escapeAttribute(ctx.csrfToken));
  const chunks: Buffer[] = [];
  parts.forEach((p, i) => (i === 0 ? chunks.push(p) : chunks.push(token, p)));
  return sendPage(reply, Buffer.concat(chunks), 200);
}

const escapeAttribute = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** Turns a zod error into one French message per field. */
export function fieldErrors(issues: { path: PropertyKey[]; message: string }[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const i of issues) {
    const key = String(i.path[0] ?? '_form');
    out[key] ??= i.message;
  }
  return out;
}
