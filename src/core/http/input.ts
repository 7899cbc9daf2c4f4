import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { notFound } from '../errors.ts';

/*
 * One way for every route to read its input: params, query and body go through a zod
 * schema, never a cast. A param that does not parse answers like an id that does not
 * exist (404); a query or body gives the schema's result, for the page to show its errors.
 */

/** A numeric id in a URL. */
export const idParam = z
  .string()
  .regex(/^[1-9]\d{0,9}$/)
  .transform(Number)
  .refine((n) => n <= 2_147_483_647);

export function routeParams<S extends z.ZodType>(req: FastifyRequest, schema: S): z.infer<S> {
  const parsed = schema.safeParse(req.params);
  if (!parsed.success) throw notFound();
  return parsed.data;
}

export function queryInput<S extends z.ZodType>(req: FastifyRequest, schema: S) {
  return schema.safeParse(req.query ?? {});
}

export function bodyInput<S extends z.ZodType>(req: FastifyRequest, schema: S) {
  return schema.safeParse(req.body ?? {});
}

function field(source: unknown, name: string): unknown {
  return source && typeof source === 'object' ? (source as Record<string, unknown>)[name] : undefined;
}

/** One field of the query string, still to be parsed. */
export function queryField(req: FastifyRequest, name: string): unknown {
  return field(req.query, name);
}

/** One field of a submitted form, still to be parsed. */
export function bodyField(req: FastifyRequest, name: string): unknown {
  return field(req.body, name);
}

/** Field names that never come back in a form shown again. */
// `code` alone (the access code), not any name containing it: a refused form must keep the postal code typed.
const SECRET_FIELD = /password|confirm|^code$|accesscode|code_acces|_csrf|token|ticket/i;

/**
 * The text a person typed, to show a refused form again as they left it: strings only
 * (an array from a repeated field takes its first value), and never a password, code or
 * token, which they type again.
 */
export function echoForm<K extends string>(body: unknown, fields: readonly K[]): Record<K, string> {
  const src = body && typeof body === 'object' ? (body as Record<string, unknown>) : {};
  const out = {} as Record<K, string>;
  for (const f of fields) {
    const v = Array.isArray(src[f]) ? (src[f] as unknown[])[0] : src[f];
    out[f] = typeof v === 'string' && !SECRET_FIELD.test(f) ? v : '';
  }
  return out;
}
