import type { FastifyInstance, LightMyRequestResponse } from 'fastify';

/**
 * A browser-like client over app.inject: keeps cookies, and submits forms with the CSRF
 * token of the page they are on, as a person filling the form would.
 */
export class TestClient {
  cookies = new Map<string, string>();
  ip: string;

  constructor(
    readonly app: FastifyInstance,
    opts: { ip?: string } = {},
  ) {
    this.ip = opts.ip ?? '127.0.0.1';
  }

  private cookieHeader(): string {
    // light-my-request hands back decoded values; a browser sends them encoded as set.
    return [...this.cookies].map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('; ');
  }

  private keep(res: LightMyRequestResponse): void {
    for (const c of res.cookies as { name: string; value: string; expires?: Date; maxAge?: number }[]) {
      const expired = (c.expires && c.expires.getTime() <= Date.now()) || c.maxAge === 0 || c.value === '';
      if (expired) this.cookies.delete(c.name);
      else this.cookies.set(c.name, c.value);
    }
  }

  async get(url: string): Promise<LightMyRequestResponse> {
    const res = await this.app.inject({
      method: 'GET',
      url,
      headers: { cookie: this.cookieHeader() },
      remoteAddress: this.ip,
    });
    this.keep(res);
    return res;
  }

  /** Follows redirects like a browser does after a POST (303 → GET). */
  async follow(res: LightMyRequestResponse): Promise<LightMyRequestResponse> {
    let r = res;
    for (let i = 0; i < 5 && r.statusCode >= 300 && r.statusCode < 400 && r.headers.location; i++) {
      r = await this.get(String(r.headers.location));
    }
    return r;
  }

  async post(
    url: string,
    fields: Record<string, string>,
    opts: { csrf?: string | null } = {},
  ): Promise<LightMyRequestResponse> {
    const body = new URLSearchParams(fields);
    if (opts.csrf !== null && opts.csrf !== undefined) body.set('_csrf', opts.csrf);
    const res = await this.app.inject({
      method: 'POST',
      url,
      payload: body.toString(),
      headers: { cookie: this.cookieHeader(), 'content-type': 'application/x-www-form-urlencoded' },
      remoteAddress: this.ip,
    });
    this.keep(res);
    return res;
  }

  /** GETs `pageUrl`, reads its CSRF token, and POSTs the fields to `actionUrl` (default: the page). */
  async submit(pageUrl: string, fields: Record<string, string>, actionUrl?: string): Promise<LightMyRequestResponse> {
    const page = await this.get(pageUrl);
    const token = csrfTokenOf(page.body);
    return this.post(actionUrl ?? pageUrl.split('?')[0]!, fields, { csrf: token });
  }
}

/**
 * Follows a confirmation link as a person does: opening it shows a page (nothing changes),
 * whose button confirms. Returns the answer to the button.
 */
export async function followConfirmLink(client: TestClient, link: string | URL): Promise<LightMyRequestResponse> {
  const url = new URL(String(link), 'http://palier.test');
  const token = url.searchParams.get('jeton') ?? '';
  return client.submit(url.pathname + url.search, { token }, '/confirmer-email');
}

export function csrfTokenOf(html: string): string {
  const m = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!m) throw new Error('no CSRF token on this page');
  return m[1]!;
}

/** Visible text of a page, tags stripped and spaces collapsed (incl. non-breaking ones). */
export function textOf(html: string): string {
  return html
    .replace(/<(script|style)[\s\S]*?<\/\1>/g, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&nbsp;|&#160;/g, ' ')
    .replace(/&amp;/g, '&')
    .replace(/&#x27;|&#39;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/[\s\u00a0\u202f]+/g, ' ')
    .trim();
}

/** Text with its no-break spaces (French typography) read as plain ones, for comparisons. */
export function plainSpaces(text: string): string {
  return text.replace(/[\u00a0\u202f]/g, ' ');
}
