import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Locator, type Page } from 'playwright-core';

/** Debian's Chromium: tests never download a browser (`.ci/run` installs the package when missing). */
export const CHROMIUM = '/usr/bin/chromium';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SCREENS_DIR = path.join(repoRoot, '.tmp', 'screens');

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export interface Browser {
  context: BrowserContext;
  page: Page;
  close(): Promise<void>;
}

/** Debian's Chromium as root, headless, reaching nothing but the app on this machine. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/** A fresh Chromium profile in a temp folder, headless, nothing fetched from the network but the app. */
export async function launch(opts: { javaScriptEnabled: boolean }): Promise<Browser> {
  const profile = mkdtempSync(path.join(tmpdir(), 'palier-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    javaScriptEnabled: opts.javaScriptEnabled,
    viewport: { width: 1280, height: 800 },
    locale: 'fr-FR',
    timezoneId: 'Europe/Paris',
    args: CHROMIUM_ARGS,
  });
  context.setDefaultTimeout(10_000);
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Clicks and waits for the next page to be loaded (a plain link or a form post and its 303). */
export async function clickAndLoad(page: Page, target: Locator): Promise<void> {
  await Promise.all([
    page.waitForEvent('framenavigated', { predicate: (f) => f === page.mainFrame() }),
    target.click(),
  ]);
  await page.waitForLoadState('load');
}

/** Visible text of the page's main area, with French non-breaking spaces made plain. */
export async function mainText(page: Page): Promise<string> {
  const text = await page.locator('main').innerText();
  return text.replace(/[\u00a0\u202f]/g, ' ');
}

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[]; html: string; failureSummary: string }[];
}

export interface AuditResult {
  name: string;
  url: string;
  width: number;
  violations: AxeViolation[];
}

/**
 * axe-core on exactly what the JavaScript-less browser shows.
 *
 * Why a second browser: the journey runs with JavaScript disabled (the app must work without
 * it), and axe cannot run in such a page (Chromium closes the page when axe's timers start
 * there). So the auditor is a second Chromium profile with JavaScript enabled. It does not
 * re-request the URL — a re-GET would consume one-time flash messages and could not replay
 * the page a POST answered (a form with its errors) — but loads the very DOM the journey's
 * page holds, at the same URL (so the app's stylesheet and images load as they did) and at
 * the same viewport width, then runs axe with the WCAG 2.0/2.1 A and AA rules.
 */
export class Auditor {
  readonly results: AuditResult[] = [];

  private constructor(private readonly browser: Browser) {}

  static async start(): Promise<Auditor> {
    return new Auditor(await launch({ javaScriptEnabled: true }));
  }

  async audit(page: Page, name: string): Promise<AuditResult> {
    const url = page.url();
    const html = await page.content();
    const viewport = page.viewportSize() ?? { width: 1280, height: 800 };
    const audit = this.browser.page;
    await audit.setViewportSize(viewport);
    const matcher = (u: URL) => u.href === url;
    await audit.route(matcher, (route) =>
      route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body: html }),
    );
    try {
      await audit.goto(url, { waitUntil: 'load' });
    } finally {
      await audit.unroute(matcher);
    }
    await audit.evaluate(axeSource);
    const violations = await audit.evaluate(async () => {
      const axe = (
        window as unknown as { axe: { run: (ctx: Document, opts: object) => Promise<{ violations: AxeViolation[] }> } }
      ).axe;
      const result = await axe.run(document, {
        runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
        resultTypes: ['violations'],
      });
      return result.violations.map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        nodes: v.nodes.map((n) => ({ target: n.target, html: n.html, failureSummary: n.failureSummary })),
      }));
    });
    const result = { name, url, width: viewport.width, violations };
    this.results.push(result);
    return result;
  }

  close(): Promise<void> {
    return this.browser.close();
  }
}

/** One readable block per page with violations: rule, impact, help, and each failing node. */
export function formatViolations(results: AuditResult[]): string {
  return results
    .filter((r) => r.violations.length > 0)
    .map((r) =>
      [
        `■ ${r.name} (${r.url}, ${r.width} px)`,
        ...r.violations.map((v) =>
          [
            `  ✗ ${v.id} [${v.impact ?? '?'}] ${v.help}`,
            ...v.nodes.map(
              (n) =>
                `      at ${n.target.join(' ')}: ${n.html.slice(0, 200)}\n        ${n.failureSummary.replace(/\n/g, '\n        ')}`,
            ),
          ].join('\n'),
        ),
      ].join('\n'),
    )
    .join('\n\n');
}

/** How far the document is wider than the viewport (0 = no horizontal scroll). */
export async function horizontalOverflow(
  page: Page,
): Promise<{ scrollWidth: number; width: number; culprits: string[] }> {
  return page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    const culprits: string[] = [];
    for (const el of Array.from(document.querySelectorAll('body *'))) {
      const r = el.getBoundingClientRect();
      if (r.right > width + 1 && r.width > 0) {
        culprits.push(
          `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}${el.className ? `.${String(el.className).split(' ').join('.')}` : ''} (right ${Math.round(r.right)})`,
        );
      }
    }
    return { scrollWidth: document.documentElement.scrollWidth, width, culprits: culprits.slice(0, 10) };
  });
}

let shot = 0;

/** A full-page PNG in .tmp/screens/ (gitignored), numbered in journey order. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENS_DIR, { recursive: true });
  const width = page.viewportSize()?.width ?? 0;
  const file = path.join(SCREENS_DIR, `${String(++shot).padStart(2, '0')}-${name}-${width}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

export interface FocusStop {
  element: string;
  outline: string;
  visible: boolean;
}

/** Tabs through the page like a keyboard user, from the top, and reports the focus ring of each stop. */
export async function tabThrough(page: Page, maxStops = 40): Promise<FocusStop[]> {
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  const stops: FocusStop[] = [];
  for (let i = 0; i < maxStops; i++) {
    await page.keyboard.press('Tab');
    const stop = await page.evaluate(() => {
      const el = document.activeElement as HTMLElement | null;
      if (!el || el === document.body) return null;
      const s = getComputedStyle(el);
      const r = el.getBoundingClientRect();
      const name = (el.innerText || el.getAttribute('aria-label') || el.getAttribute('name') || '')
        .trim()
        .replace(/\s+/g, ' ')
        .slice(0, 40);
      return {
        element: `${el.tagName.toLowerCase()} « ${name} »`,
        outline: s.outlineStyle === 'none' ? 'none' : `${s.outlineWidth} ${s.outlineStyle}`,
        visible: r.width > 0 && r.height > 0 && r.bottom > 0 && r.right > 0,
      };
    });
    // Back to the page itself or around to the first stop: every stop has been seen.
    if (!stop || (stops.length > 0 && stop.element === stops[0]!.element)) break;
    stops.push(stop);
  }
  return stops;
}
