import type { FastifyInstance } from 'fastify';
import { isStorageKey, keyExtension } from '../../adapters/storage/storage.ts';
import { getAgency } from '../../core/agency/agency.repository.ts';
import { brandStylesheet, brandStylesheetHref } from '../../core/agency/colors.ts';

/** The logo's kind was judged from its content when it was stored, and named its key's extension. */
const types: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  svg: 'image/svg+xml',
};

export async function agencyRoutes(app: FastifyInstance) {
  app.get('/agence/logo', async (_req, reply) => {
    const { logo } = await getAgency(app.deps.db);
    // A setting that is not one of our keys (tampered with) is no file at all, rather than an error.
    const body = logo && isStorageKey(logo) ? await app.deps.storage.get(logo) : null;
    if (!logo || !body) return reply.callNotFound();
    return (
      reply
        .type(types[keyExtension(logo)] ?? 'application/octet-stream')
        .header('cache-control', 'public, max-age=3600')
        // Set here too, not only by the global headers: an SVG must never be sniffed as a page...
        .header('x-content-type-options', 'nosniff')
        // ...nor run anything if opened directly.
        .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'")
        .send(body)
    );
  });

  app.get('/agence/couleurs.css', async (req, reply) => {
    // Read from the database, not the instance's copy: a stale copy must not be cached for long under a new URL.
    const { color } = await getAgency(app.deps.db);
    const href = brandStylesheetHref(color);
    // Kept for a year when asked for by the current colour's URL (a new colour is a new URL).
    const current = href !== null && req.url === href;
    return reply
      .type('text/css; charset=utf-8')
      .header('cache-control', current ? 'public, max-age=31536000, immutable' : 'no-cache')
      .send(brandStylesheet(color));
  });
}
