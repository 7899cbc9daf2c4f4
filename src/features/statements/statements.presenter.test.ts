import { h } from 'preact';
import { renderToString } from 'preact-render-to-string';
import { parse as parseCsv } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { agencyFrom } from '../../core/agency/agency.repository.ts';
import { formatMoney } from '../../core/format.ts';
import type { PageContext } from '../../core/views/layout.tsx';
import {
  computeStatement,
  dayBefore,
  presentStatement,
  presentStatementHeader,
  statementCsv,
  statementFileName,
  type StatementView,
} from './statements.presenter.ts';
import type { StatementLine } from './statements.repository.ts';
import { isCalendarDate, periodSchema } from './statements.schemas.ts';
import { escapeHtml, statementBodyHtml, StatementPage } from './statements.views.tsx';

describe('statement figures', () => {
  it('carries the opening balance through the running balance and totals', () => {
    const s = computeStatement(
      [
        { entry_date: '2024-04-01', label: 'Appel', debit_cents: 50_000, credit_cents: 0, piece: 'AF-2' },
        { entry_date: '2024-04-20', label: 'Virement', debit_cents: 0, credit_cents: 50_005, piece: null },
      ],
      { du: '2024-04-01', au: '2024-06-30' },
      -20_000,
      new Date('2024-07-14T10:00:00Z'),
    );
    expect(s.lines.map((l) => l.balance_cents)).toEqual([-70_000, -19_995]);
    expect(s.opening).toEqual({ date: '2024-03-31', cents: -20_000 });
    expect(s.closing).toEqual({ date: '2024-06-30', cents: -19_995 });
    expect([s.totalDebitCents, s.totalCreditCents]).toEqual([50_000, 50_005]);
    expect(statementCsv(s).split('\r\n').slice(2, 4)).toEqual([
      '01/04/2024;Appel;AF-2;500,00;;-700,00',
      '20/04/2024;Virement;;;500,05;-199,95',
    ]);
  });

  it('dates the closing balance at the last line, or today for an empty account', () => {
    expect(computeStatement([], {}, 0, new Date('2024-07-14T23:30:00Z')).closing.date).toBe('2024-07-15');
    expect(computeStatement([], {}, 0, new Date()).opening).toBeNull();
  });

  it('writes amounts under one euro with their sign', () => {
    const csv = statementCsv(
      computeStatement(
        [{ entry_date: '2024-01-01', label: 'Frais', debit_cents: 5, credit_cents: 0, piece: null }],
        {},
        0,
        new Date(),
      ),
    );
    expect(csv).toContain('01/01/2024;Frais;;0,05;;-0,05');
  });

  it('writes the CSV for French spreadsheets: BOM, semicolons, CRLF, decimal commas', () => {
    const csv = statementCsv(
      computeStatement(
        [{ entry_date: '2024-01-01', label: 'Frais', debit_cents: 137_820, credit_cents: 0, piece: null }],
        { du: '2024-01-01' },
        0,
        new Date(),
      ),
    );
    expect(csv).toBe(
      '\uFEFFDate;Libellé;Pièce;Débit;Crédit;Solde\r\n' +
        '31/12/2023;Solde au 31/12/2023;;;;0,00\r\n' +
        '01/01/2024;Frais;;1378,20;;-1378,20\r\n' +
        ';Total de la période;;1378,20;0,00;\r\n' +
        '01/01/2024;Solde au 01/01/2024;;;;-1378,20\r\n',
    );
  });

  it('neutralises labels and pièces a spreadsheet would run as formulas, never amounts', () => {
    const hostile = ['=HYPERLINK("http://x";"clic")', '+33 6 12', '-2+3', '@SUM(A1)', '\tTab', '\rCR', '＝1+1'];
    const lines: StatementLine[] = hostile.map((label) => ({
      entry_date: '2024-01-01',
      label,
      debit_cents: 137_820,
      credit_cents: 0,
      piece: label,
    }));
    const rows = parseCsv(statementCsv(computeStatement(lines, {}, 0, new Date())), {
      bom: true,
      delimiter: ';',
      columns: true,
    }) as Record<string, string>[];
    const written = rows.slice(0, hostile.length);
    expect(written.map((r) => r['Libellé'])).toEqual(hostile.map((l) => `'${l}`));
    expect(written.map((r) => r['Pièce'])).toEqual(hostile.map((l) => `'${l}`));
    // A negative balance is a number for the spreadsheet: no quote mark before its sign.
    expect(written.map((r) => r['Solde'])).toEqual([
      '-1378,20',
      '-2756,40',
      '-4134,60',
      '-5512,80',
      '-6891,00',
      '-8269,20',
      '-9647,40',
    ]);
  });

  it('round-trips through a CSV parser to the same values, amounts read back as numbers', () => {
    const labels = [
      'Appel de fonds 1T2024',
      'Virement « reçu » ; n° 12',
      'Régularisation "eau"\nchauffage',
      ' espacé ',
    ];
    const lines: StatementLine[] = labels.map((label, i) => ({
      entry_date: `2024-0${i + 1}-15`,
      label,
      debit_cents: i % 2 === 0 ? 1_005 : 0,
      credit_cents: i % 2 === 1 ? 250_000 : 0,
      piece: i === 1 ? 'AF;2' : null,
    }));
    const s = computeStatement(lines, { du: '2024-01-01' }, -5_000, new Date());
    const rows = parseCsv(statementCsv(s), { bom: true, delimiter: ';', record_delimiter: '\r\n' }) as string[][];
    expect(rows[0]).toEqual(['Date', 'Libellé', 'Pièce', 'Débit', 'Crédit', 'Solde']);
    expect(rows.slice(2, 2 + labels.length).map((r) => [r[1], r[2]])).toEqual(
      lines.map((l) => [l.label, l.piece ?? '']),
    );
    const cents = (v: string) => (v === '' ? 0 : Math.round(Number(v.replace(',', '.')) * 100));
    expect(rows.slice(2, 2 + labels.length).map((r) => [cents(r[3]!), cents(r[4]!), cents(r[5]!)])).toEqual(
      s.lines.map((l) => [l.debit_cents, l.credit_cents, l.balance_cents]),
    );
    for (const r of rows.slice(1)) {
      for (const amount of r.slice(3)) expect(amount).toMatch(/^(-?\d+,\d{2})?$/);
    }
  });

  it('knows month lengths and leap years', () => {
    expect(dayBefore('2024-03-01')).toBe('2024-02-29');
    expect(dayBefore('2023-01-01')).toBe('2022-12-31');
    expect(isCalendarDate('2024-02-29')).toBe(true);
    expect(isCalendarDate('2023-02-29')).toBe(false);
    expect(isCalendarDate('0000-01-01')).toBe(false);
  });

  it('accepts empty bounds and French dates, refuses the rest', () => {
    expect(periodSchema.parse({ du: '', au: '' })).toEqual({ du: undefined, au: undefined });
    expect(periodSchema.parse({ du: ' 01/04/2024 ', au: '2024-04-30' })).toEqual({
      du: '2024-04-01',
      au: '2024-04-30',
    });
    expect(periodSchema.safeParse({ du: ['2024-01-01'] }).success).toBe(false);
    expect(periodSchema.safeParse({ du: '2024-1-1' }).success).toBe(false);
  });

  it('keeps only safe characters in the file name', () => {
    expect(statementFileName('C0042"; x', { du: '2024-01-01' })).toBe('extrait-C0042___x-du-2024-01-01.csv');
  });
});

// ---- The statement table as a browser and a screen reader get it

const HOSTILE_LABELS = [
  '<script>alert("x")</script>',
  '</td></tr></tbody></table><img src=x onerror=alert(1)>',
  'Travaux " onmouseover="alert(1)',
  "Régularisation d'eau & chauffage <b>2023</b>",
  'Déjà échappé &amp; &lt;script&gt; &#39;',
];

const header = presentStatementHeader(
  { id: 7, reference: 'C0042', kind: 'coproprietaire', civility: 'M.', first_name: 'Paul', last_name: 'DURAND' },
  null,
);

function viewOf(labels: string[], period: { du?: string } = {}): StatementView {
  const lines: StatementLine[] = labels.map((label, i) => ({
    entry_date: `2024-0${(i % 9) + 1}-15`,
    label,
    debit_cents: i % 2 === 0 ? 137_820 + i : 0,
    credit_cents: i % 2 === 1 ? 250_000 : 0,
    piece: null,
  }));
  return presentStatement(header, period, computeStatement(lines, period, period.du ? -5_000 : 0, new Date()));
}

/** HTML text decoded in one pass, as a browser reads it (so "&amp;lt;" stays "&lt;"). */
function decode(html: string): string {
  const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"' };
  return html.replace(/&(?:#(\d+)|(\w+));/g, (m, num: string | undefined, name: string | undefined) =>
    num ? String.fromCharCode(Number(num)) : (named[name!] ?? m),
  );
}

/** Each row of a table section as [tag and attributes, visible text] per cell. */
function cellsOf(html: string): string[][][] {
  return [...html.matchAll(/<tr[^>]*>([\s\S]*?)<\/tr>/g)].map((row) =>
    [...row[1]!.matchAll(/<(td|th)([^>]*)>([\s\S]*?)<\/\1>/g)].map((c) => [
      `${c[1]}${c[2]}`,
      decode(c[3]!.replace(/<[^>]+>/g, '')),
    ]),
  );
}

/** The rows as they were written with one Preact node per cell: the reference for the string. */
function preactRows(v: StatementView): string {
  const signed = (b: StatementView['closing']['balance']) =>
    h('td', { class: 'num' }, b.amount, b.word ? h('span', { class: 'visually-hidden' }, ' ', b.word) : null);
  return renderToString(
    h(
      'tbody',
      null,
      v.opening
        ? h(
            'tr',
            { class: 'statement-balance' },
            h('th', { scope: 'row', colSpan: 4 }, v.opening.label),
            signed(v.opening.balance),
          )
        : null,
      v.rows.map((r) =>
        h(
          'tr',
          null,
          h('td', null, r.date),
          h('td', null, r.label),
          h('td', { class: 'num' }, r.debit),
          h('td', { class: 'num' }, r.credit),
          signed(r.balance),
        ),
      ),
    ),
  );
}

const ctx: PageContext = {
  agency: agencyFrom(new Map([['name', 'Agence <Alpes> & fils']])),
  csrfToken: 'jeton',
  user: { firstName: 'Paul', lastName: 'DURAND' },
  flash: null,
  path: '/comptes/7/extrait',
};

describe('statement table markup', () => {
  it('escapes the five characters that matter in HTML text and attributes', () => {
    expect(escapeHtml(`<a href="x" title='y'>&amp;</a>`)).toBe(
      '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;',
    );
    expect(escapeHtml('Virement reçu — 1 378,20 €')).toBe('Virement reçu — 1 378,20 €');
    expect(escapeHtml('')).toBe('');
  });

  it('shows hostile labels as plain text, never as markup', () => {
    const v = viewOf(HOSTILE_LABELS, { du: '2024-01-01' });
    const body = statementBodyHtml(v);
    // Only the table's own tags: every row has its five cells and nothing else.
    const cell = '[^<>]*';
    const amount = `(?:<td class="st-empty"></td>|<td class="num st-(?:debit|credit)">${cell}</td>)`;
    const balance = `<td class="num st-balance">${cell}(?:<span class="visually-hidden"> (?:débiteur|créditeur)</span>)?</td>`;
    const opening = `<tr class="statement-balance"><th scope="row" colspan="4">${cell}</th>${balance}</tr>`;
    const line = `<tr><td class="st-date">${cell}</td><td class="st-label">[^<>"']*</td>${amount}${amount}${balance}</tr>`;
    expect(body).toMatch(new RegExp(`^${opening}(?:${line}){${HOSTILE_LABELS.length}}$`));
    // What a reader sees is the label exactly as the agency wrote it.
    expect(
      cellsOf(body)
        .slice(1)
        .map((row) => row[1]![1]),
    ).toEqual(HOSTILE_LABELS);

    const page = renderToString(h(StatementPage, { ctx, account: header, du: '2024-01-01', au: '', statement: v }));
    expect(page).not.toMatch(/<script|<img|<b>| onmouseover="/);
    expect(page).toContain('<td class="st-label">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;</td>');
    expect(page).toContain('<td class="st-label">Déjà échappé &amp;amp; &amp;lt;script&amp;gt; &amp;#39;</td>');
    expect(page).toContain(`<tbody>${body}</tbody>`);
  });

  it('reads exactly as the rows rendered one Preact node per cell', () => {
    const labels = ['Appel de fonds 1T2024', 'Virement reçu', ...HOSTILE_LABELS, 'Frais'];
    for (const period of [{}, { du: '2024-01-01' }]) {
      const v = viewOf(labels, period);
      // Same cells, same headers and scopes, same text; classes (the phone layout's) aside.
      const noClass = (rows: string[][][]) =>
        rows.map((row) => row.map(([tag, text]) => [tag!.replace(/ class="[^"]*"/, ''), text!]));
      expect(noClass(cellsOf(statementBodyHtml(v)))).toEqual(noClass(cellsOf(preactRows(v))));
    }
  });

  it('says the running balance with its sign, and in words for screen readers', () => {
    const v = viewOf(['Appel', 'Virement', 'Appel'], { du: '2024-01-01' });
    expect(cellsOf(statementBodyHtml(v)).map((row) => row.map((c) => c[1]).join(' | '))).toEqual([
      `Solde au 31/12/2023 | ${formatMoney(-5_000)} débiteur`,
      `15/01/2024 | Appel | ${formatMoney(137_820)} |  | ${formatMoney(-142_820)} débiteur`,
      `15/02/2024 | Virement |  | ${formatMoney(250_000)} | ${formatMoney(107_180)} créditeur`,
      `15/03/2024 | Appel | ${formatMoney(137_822)} |  | ${formatMoney(-30_642)} débiteur`,
    ]);
    expect(formatMoney(-142_820)).toBe('-1\u202f428,20\u00a0€');
    // A zero balance has no sign to explain.
    const zero = viewOf([]);
    expect(
      statementBodyHtml({ opening: { label: 'Solde au 31/12/2023', balance: zero.closing.balance }, rows: [] }),
    ).toBe(
      '<tr class="statement-balance"><th scope="row" colspan="4">Solde au 31/12/2023</th><td class="num st-balance">0,00\u00a0€</td></tr>',
    );
  });
});
