import { csrfTokenOf } from '../helpers/client.ts';

export interface WebResponse {
  status: number;
  location: string | null;
  body: string;
  headers: Headers;
}

/**
 * A browser over real HTTP: one cookie jar for every origin it talks to, the way a
 * browser behind a load balancer sees one site whatever instance answers. Redirects are
 * not followed, so tests see the 303s.
 */
export class WebClient {
  readonly cookies = new Map<string, string>();

  private keep(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      const expired = attrs.some((a) => {
        const [k, v] = a.trim().split('=');
        if (k!.toLowerCase() === 'max-age') return Number(v) <= 0;
        if (k!.toLowerCase() === 'expires') return new Date(v!).getTime() <= Date.now();
        return false;
      });
      if (expired || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  private cookieHeader(): string {
    // Values are kept exactly as the server set them (already encoded).
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  async get(url: string): Promise<WebResponse> {
    const res = await fetch(url, { redirect: 'manual', headers: { cookie: this.cookieHeader() } });
    this.keep(res);
    return { status: res.status, location: res.headers.get('location'), body: await res.text(), headers: res.headers };
  }

  async post(url: string, fields: Record<string, string>): Promise<WebResponse> {
    const res = await fetch(url, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: this.cookieHeader(), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
    });
    this.keep(res);
    return { status: res.status, location: res.headers.get('location'), body: await res.text(), headers: res.headers };
  }

  /**
   * Loads the form page from one instance and posts it (with the page's CSRF token) to
   * `actionUrl`, possibly on the other instance, as a load balancer may route them.
   */
  async submit(pageUrl: string, fields: Record<string, string>, actionUrl: string): Promise<WebResponse> {
    const page = await this.get(pageUrl);
    if (page.status !== 200) throw new Error(`GET ${pageUrl}: ${page.status}`);
    return this.post(actionUrl, { ...fields, _csrf: csrfTokenOf(page.body) });
  }
}
