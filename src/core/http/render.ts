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
  return reply
    .status(status)
    .header('content-type', 'text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .send(`<!doctype html>${renderToString(view(ctx))}`);
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
  return reply
    .status(status)
    .header('content-type', 'text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .send(body);
}

/** Turns a zod error into one French message per field. */
export function fieldErrors(issues: { path: PropertyKey[]; message: string }[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const i of issues) {
    const key = String(i.path[0] ?? '_form');
    out[key] ??= i.message;
  }
  return out;
}
