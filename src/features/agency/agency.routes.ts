import type { FastifyInstance } from 'fastify';
import { isStorageKey, keyExtension } from '../../adapters/storage/storage.ts';
import { getAgency } from '../../core/agency/agency.repository.ts';

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
}
