import type { ComponentChildren } from 'preact';
import type { Agency } from '../agency/agency.repository.ts';
import { brandStylesheetHref } from '../agency/colors.ts';
import { telHref } from './components.tsx';
import { installFrenchTypography } from './typography.ts';

// Every page is written through this layout: its text follows French spacing.
installFrenchTypography();

export interface Flash {
  kind: 'success' | 'error' | 'info';
  message: string;
}

/** What every page gets from the request: who is logged in, the CSRF token, the agency. */
export interface PageContext {
  agency: Agency;
  csrfToken: string;
  user: { firstName: string; lastName: string } | null;
  flash: Flash | null;
  /** Path of the current page, to mark the current navigation link. */
  path: string;
}

export interface LayoutProps {
  ctx: PageContext;
  title: string;
  children: ComponentChildren;
  /** Narrow pages (forms) read better at a short line length. */
  narrow?: boolean;
}

const navLinks = [
  { href: '/accueil', label: 'Accueil' },
  { href: '/profil', label: 'Profil' },
  { href: '/contact', label: 'Contact' },
];

export function Layout({ ctx, title, children, narrow }: LayoutProps) {
  const { agency, user } = ctx;
  const brandCss = brandStylesheetHref(agency.color);
  return (
    <html lang="fr">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${title} – ${agency.name}`}</title>
        <link rel="icon" href="/static/favicon.svg" type="image/svg+xml" />
        <link rel="icon" href="/static/favicon.png" type="image/png" sizes="32x32" />
        <link rel="stylesheet" href="/static/palier.css" />
        {/* After palier.css: the agency's colour overrides Palier's. A file, as the CSP forbids inline styles. */}
        {brandCss ? <link rel="stylesheet" href={brandCss} /> : null}
      </head>
      <body>
        <a class="skip-link" href="#contenu">
          Aller au contenu
        </a>
        <header class="site-header">
          <div class="brand">
            <a href={user ? '/accueil' : '/'} class="brand-link">
              {agency.logo ? <img src="/agence/logo" alt="" class="brand-logo" /> : null}
              <span class="brand-name">{agency.name}</span>
            </a>
            {agency.tagline ? <span class="brand-tagline">{agency.tagline}</span> : null}
          </div>
          {user ? (
            <nav aria-label="Navigation principale" class="main-nav">
              <ul>
                {navLinks.map((l) => (
                  <li key={l.href}>
                    <a href={l.href} aria-current={ctx.path.startsWith(l.href) ? 'page' : undefined}>
                      {l.label}
                    </a>
                  </li>
                ))}
                <li>
                  <form method="post" action="/deconnexion" class="inline-form">
                    <input type="hidden" name="_csrf" value={ctx.csrfToken} />
                    <button type="submit" class="link-button">
                      Déconnexion
                    </button>
                  </form>
                </li>
              </ul>
            </nav>
          ) : null}
        </header>
        <main id="contenu" class={narrow ? 'container narrow' : 'container'} tabIndex={-1}>
          {ctx.flash ? (
            <div class={`flash flash-${ctx.flash.kind}`} role={ctx.flash.kind === 'error' ? 'alert' : 'status'}>
              {ctx.flash.message}
            </div>
          ) : null}
          {children}
        </main>
        <footer class="site-footer">
          <p>
            <strong>{agency.name}</strong>
            {agency.address ? <> · {agency.address}</> : null}
            {agency.phone ? (
              <>
                {' · '}
                <a href={telHref(agency.phone)}>{agency.phone}</a>
              </>
            ) : null}
            {agency.email ? (
              <>
                {' · '}
                <a href={`mailto:${agency.email}`}>{agency.email}</a>
              </>
            ) : null}
            {agency.website ? (
              <>
                {' · '}
                <a href={agency.website}>{agency.website.replace(/^https?:\/\//, '')}</a>
              </>
            ) : null}
          </p>
        </footer>
      </body>
    </html>
  );
}
