import { options, type VNode } from 'preact';

/*
 * French typography, applied to every text Palier writes rather than remembered in each
 * string: a narrow no-break space (U+202F) before ; ! ?, a no-break space (U+00A0) before
 * : and inside « », so that a sign never starts a line and « never ends one.
 */

const NARROW = '\u202f';
const NBSP = '\u00a0';
const BEFORE_NARROW = /[ \u00a0\u202f]+([;!?])/g;
const BEFORE_COLON = /[ \u00a0\u202f]+:/g;
const AFTER_OPENING = /«[ \u00a0\u202f]+/g;
const BEFORE_CLOSING = /[ \u00a0\u202f]+»/g;
const CANDIDATE = /[;!?:«»]/;

/** The same text with French spacing around ; ! ? : « ». */
export function frenchSpacing(text: string): string {
  // Most strings have none of these signs: return them untouched, at the cost of one test.
  if (!CANDIDATE.test(text)) return text;
  return text
    .replace(BEFORE_NARROW, `${NARROW}$1`)
    .replace(BEFORE_COLON, `${NBSP}:`)
    .replace(AFTER_OPENING, `«${NBSP}`)
    .replace(BEFORE_CLOSING, `${NBSP}»`);
}

/** Attributes a person reads or hears; values typed by people (value, textarea) are left as typed. */
const TEXT_ATTRIBUTES = ['title', 'alt', 'placeholder', 'aria-label', 'aria-description'] as const;

function fixChildren(children: unknown): unknown {
  if (typeof children === 'string') return frenchSpacing(children);
  if (Array.isArray(children)) return children.map(fixChildren);
  return children;
}

let installed = false;

/**
 * Makes every TSX view and mail written with Preact follow French spacing: text children
 * and readable attributes are fixed as vnodes are created. Idempotent.
 */
export function installFrenchTypography(): void {
  if (installed) return;
  installed = true;
  const previous = options.vnode;
  options.vnode = (vnode: VNode) => {
    const props = vnode.props as Record<string, unknown> | null;
    if (props && vnode.type !== 'textarea' && vnode.type !== 'script' && vnode.type !== 'style') {
      if ('children' in props) props.children = fixChildren(props.children);
      for (const a of TEXT_ATTRIBUTES) {
        if (typeof props[a] === 'string') props[a] = frenchSpacing(props[a]);
      }
    }
    previous?.(vnode);
  };
}

installFrenchTypography();
