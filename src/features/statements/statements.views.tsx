import { frenchSpacing } from '../../core/views/typography.ts';
import { BackLink, CsrfField, ErrorSummary, Field, telHref, type FormErrors } from '../../core/views/components.tsx';
import { Layout, type PageContext } from '../../core/views/layout.tsx';
import type { CardResultView, PaymentView, PendingPaymentView } from './payment.presenter.ts';
import type { SignedAmountView, StatementHeaderView, StatementView } from './statements.presenter.ts';

function AccountHeader({ account }: { account: StatementHeaderView }) {
  return (
    <dl class="definition-list">
      <dt>Compte</dt>
      <dd>{account.numberLabel}</dd>
      {account.holder ? (
        <>
          <dt>Titulaire</dt>
          <dd>{account.holder}</dd>
        </>
      ) : null}
      {account.buildingName ? (
        <>
          <dt>Immeuble</dt>
          <dd>
            {account.buildingName}
            {account.buildingAddress ? `, ${account.buildingAddress}` : ''}
          </dd>
        </>
      ) : null}
    </dl>
  );
}

function Signed({ value }: { value: SignedAmountView }) {
  return (
    <>
      {value.amount}
      {value.word ? <span class="visually-hidden"> {value.word}</span> : null}
    </>
  );
}

// ---- The body of the statement table, written as one HTML string.
//
// A 2 000-line statement is 10 000 cells: as Preact nodes they cost most of the page's time.
// The same markup is written here as a string instead, and every value that goes into it
// passes through escapeHtml (statements.presenter.test.ts renders hostile labels). Nothing
// else in this file writes raw HTML.

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};
const HTML_SPECIAL = /[&<>"']/;
const HTML_SPECIALS = /[&<>"']/g;

/** Text made safe for HTML content and quoted attribute values. */
export function escapeHtml(text: string): string {
  // Most labels have nothing to escape: test first, and return the string as it is.
  return HTML_SPECIAL.test(text) ? text.replace(HTML_SPECIALS, (c) => HTML_ESCAPES[c]!) : text;
}

/** The balance cell: the amount with its sign, then the sign in words for screen readers. */
function signedCellHtml(v: SignedAmountView, className: string): string {
  const word = v.word ? `<span class="visually-hidden"> ${escapeHtml(v.word)}</span>` : '';
  return `<td class="num ${className}">${escapeHtml(v.amount)}${word}</td>`;
}

/**
 * A débit or crédit cell; an empty one needs no alignment class. On a phone the row
 * becomes a block and the cell shows its amount signed (− débit, + crédit) and coloured.
 */
function amountCellHtml(amount: string, kind: 'debit' | 'credit'): string {
  return amount ? `<td class="num st-${kind}">${escapeHtml(amount)}</td>` : '<td class="st-empty"></td>';
}

// Rows are immutable once presented (see presentStatement): their HTML is written once.
const rowsHtml = new WeakMap<StatementView['rows'], string>();
const bodyBytes = new WeakMap<StatementView['rows'], Buffer>();

/** The table body as UTF-8 bytes, made once per presented statement (the opening row comes with its rows). */
export function statementBodyBytes(s: Pick<StatementView, 'opening' | 'rows'>): Buffer {
  let bytes = bodyBytes.get(s.rows);
  if (!bytes) {
    bytes = Buffer.from(statementBodyHtml(s));
    bodyBytes.set(s.rows, bytes);
  }
  return bytes;
}

/** The rows of the table body (opening balance, then the lines), as escaped HTML. */
export function statementBodyHtml(s: Pick<StatementView, 'opening' | 'rows'>): string {
  let html = '';
  if (s.opening) {
    html += `<tr class="statement-balance"><th scope="row" colspan="4">${escapeHtml(s.opening.label)}</th>${signedCellHtml(s.opening.balance, 'st-balance')}</tr>`;
  }
  let body = rowsHtml.get(s.rows);
  if (body === undefined) {
    body = '';
    for (const r of s.rows) {
      body += `<tr><td class="st-date">${escapeHtml(r.date)}</td><td class="st-label">${escapeHtml(frenchSpacing(r.label))}</td>${amountCellHtml(r.debit, 'debit')}${amountCellHtml(r.credit, 'credit')}${signedCellHtml(r.balance, 'st-balance')}</tr>`;
    }
    rowsHtml.set(s.rows, body);
  }
  return html + body;
}

export interface StatementPageProps {
  ctx: PageContext;
  account: StatementHeaderView;
  /** What the person typed, shown back in the filter. */
  du: string;
  au: string;
  errors?: FormErrors;
  statement?: StatementView;
  /** Confirmed online payments the ledger does not show yet. */
  pending?: PendingPaymentView[];
  /** The table body is left as this marker, for the route to put in the rows it keeps encoded. */
  bodySlot?: string;
}

export function StatementPage({ ctx, account, du, au, errors, statement, pending, bodySlot }: StatementPageProps) {
  return (
    <Layout ctx={ctx} title={`Extrait de compte N° ${account.reference}`}>
      {/* Where every account page has it: above the title. */}
      <BackLink href="/accueil" />
      <h1>Extrait de compte</h1>
      <ErrorSummary errors={errors ?? {}} labels={{ du: 'Du', au: 'Au' }} />
      <AccountHeader account={account} />
      <form method="get" action={`/comptes/${account.id}/extrait`} class="filters print-hide" novalidate>
        <fieldset>
          <legend>Période</legend>
          <Field
            name="du"
            label="Du"
            type="date"
            value={du}
            error={errors?.du}
            hint="Par exemple 31/12/2024."
            maxLength={10}
          />
          <Field
            name="au"
            label="Au"
            type="date"
            value={au}
            error={errors?.au}
            hint="Par exemple 31/12/2024."
            maxLength={10}
          />
          <div class="actions">
            <button type="submit" class="button">
              Afficher
            </button>
            <a href={`/comptes/${account.id}/extrait`}>Toute la période</a>
          </div>
        </fieldset>
      </form>
      {pending && pending.length > 0 ? <PendingPayments list={pending} /> : null}
      {statement ? <StatementTable s={statement} bodySlot={bodySlot} /> : null}
    </Layout>
  );
}

function PendingPayments({ list }: { list: PendingPaymentView[] }) {
  return (
    <section class="card pending-payments" aria-labelledby="paiements-en-cours">
      <h2 id="paiements-en-cours">Paiements en ligne en cours de rapprochement</h2>
      <p>
        Ces paiements sont confirmés. Ils apparaîtront parmi les écritures après leur enregistrement en comptabilité
        {'\u202f'}; d’ici là, le solde ci-dessous n’en tient pas compte.
      </p>
      <ul>
        {list.map((p) => (
          <li key={p.reference}>
            {p.date} – {p.label} – <strong>{p.amount}</strong> (référence {p.reference})
          </li>
        ))}
      </ul>
    </section>
  );
}

function StatementTable({ s, bodySlot }: { s: StatementView; bodySlot?: string }) {
  return (
    <>
      <ul class="actions print-hide">
        <li>
          <a class="button button-secondary" href={s.pdfHref} download>
            Télécharger l’extrait (PDF)
          </a>
        </li>
        <li>
          <a class="button button-secondary" href={s.csvHref} download>
            Télécharger l’extrait (CSV)
          </a>
        </li>
      </ul>
      <p class="hint print-hide">
        Pour imprimer cet extrait, téléchargez-le en PDF ou utilisez la fonction d’impression de votre navigateur (Ctrl
        + P, ou ⌘ + P sur Mac).
      </p>
      {/* The balance of the period first: on a phone, the figure people look for is on top. */}
      <p class="statement-summary">
        {s.closing.label} : <Signed value={s.closing.balance} />
      </p>
      {s.rows.length === 0 ? <p class="muted">Aucune écriture sur cette période.</p> : null}
      {/* Focusable so a keyboard user can scroll the table sideways on a phone. */}
      <div class="table-wrapper" role="region" aria-labelledby="extrait-titre" tabIndex={0}>
        <table class="data-table statement">
          <caption id="extrait-titre">
            Écritures du compte N° {s.account.reference}, {s.periodText}
          </caption>
          <thead>
            <tr>
              <th scope="col">Date</th>
              <th scope="col">Libellé</th>
              <th scope="col" class="num">
                Débit
              </th>
              <th scope="col" class="num">
                Crédit
              </th>
              <th scope="col" class="num">
                Solde
              </th>
            </tr>
          </thead>
          {/* Rows written by statementBodyHtml, where every value is escaped. */}
          <tbody dangerouslySetInnerHTML={{ __html: bodySlot ?? statementBodyHtml(s) }} />
          <tfoot>
            <tr>
              <th scope="row" colSpan={2}>
                Total de la période
              </th>
              {/* On a phone the column heads are hidden: each total says what it adds up. */}
              <td class="num st-total">
                <span class="phone-only">Débits : </span>
                {s.totals.debit}
              </td>
              <td class="num st-total">
                <span class="phone-only">Crédits : </span>
                {s.totals.credit}
              </td>
              <td class="st-empty"></td>
            </tr>
            <tr class="statement-balance">
              <th scope="row" colSpan={4}>
                {s.closing.label}
              </th>
              <td class="num">
                <Signed value={s.closing.balance} />
              </td>
            </tr>
          </tfoot>
        </table>
      </div>
    </>
  );
}

export function PaymentPage({ ctx, view: v, qr }: { ctx: PageContext; view: PaymentView; qr: string | null }) {
  return (
    <Layout ctx={ctx} title={`Payer – compte N° ${v.account.reference}`}>
      <h1>Payer</h1>
      <BackLink href="/accueil" />
      <ErrorSummary
        errors={v.amount.error ? { montant: v.amount.error } : {}}
        labels={{ montant: 'Montant à payer' }}
      />
      <AccountHeader account={v.account} />
      <section class="card" aria-labelledby="a-regler">
        <h2 id="a-regler">Montant à régler</h2>
        <div class={`balance balance-${v.balance.tone}`}>
          {v.due ? <p class="balance-amount">{v.due}</p> : <p>Votre compte ne présente pas de somme à régler.</p>}
          <p class="balance-label">
            {v.balance.label}
            {'\u00a0'}: {v.balance.amount}
          </p>
        </div>
        {v.due ? (
          <form method="get" action={`/comptes/${v.account.id}/payer`} class="print-hide" novalidate>
            <Field
              name="montant"
              label="Montant à payer (en euros)"
              value={v.amount.formValue}
              error={v.amount.error ?? undefined}
              hint={`Le montant dû est proposé\u202f; vous pouvez le modifier (${v.amount.limit} au plus en un paiement).`}
              inputMode="decimal"
              autocomplete="transaction-amount"
              maxLength={20}
            />
            <div class="actions">
              <button type="submit" class="button button-secondary">
                Modifier le montant
              </button>
            </div>
          </form>
        ) : null}
        <p class="print-hide">
          <a href={`/comptes/${v.account.id}/extrait`}>
            Voir le détail de votre compte<span class="visually-hidden"> N° {v.account.reference}</span>
          </a>
        </p>
      </section>

      {v.due ? <PaymentMethods ctx={ctx} view={v} qr={qr} /> : null}
    </Layout>
  );
}

function PaymentMethods({ ctx, view: v, qr }: { ctx: PageContext; view: PaymentView; qr: string | null }) {
  return (
    <>
      {v.card ? (
        <section class="card print-hide" aria-labelledby="carte">
          <h2 id="carte">Par carte bancaire</h2>
          <p>
            Vous êtes dirigé vers la page de paiement sécurisée de notre prestataire, Stripe, puis ramené ici. Palier ne
            voit jamais votre numéro de carte.
          </p>
          <form method="post" action={v.card.action} novalidate>
            <CsrfField token={ctx.csrfToken} />
            <input type="hidden" name="montant" value={v.card.value} />
            <div class="actions">
              <button type="submit" class="button">
                Payer {v.card.amount} par carte
              </button>
            </div>
          </form>
        </section>
      ) : null}

      <section class="card" aria-labelledby="virement">
        <h2 id="virement">Par virement bancaire</h2>
        {v.transfer ? (
          <>
            <dl class="definition-list">
              <dt>Bénéficiaire</dt>
              <dd>{v.transfer.holder}</dd>
              <dt>IBAN</dt>
              <dd>
                <code>{v.transfer.iban}</code>
              </dd>
              {v.transfer.bic ? (
                <>
                  <dt>BIC</dt>
                  <dd>
                    <code>{v.transfer.bic}</code>
                  </dd>
                </>
              ) : null}
              <dt>Montant</dt>
              <dd>{v.amount.text}</dd>
            </dl>
            <p>
              <strong>
                Référence à indiquer{'\u00a0'}: {v.reference}
              </strong>
              <br />
              Écrivez-la dans le libellé de votre virement{'\u00a0'}: elle permet d’affecter votre paiement à votre
              compte.
            </p>
            {qr ? (
              <figure class="qr-code">
                <img
                  src={qr}
                  width={200}
                  height={200}
                  alt={`Code QR de virement\u00a0: ${v.amount.text} à ${v.transfer.holder}, référence ${v.reference}`}
                />
                <figcaption>
                  Avec l’application de votre banque, scannez ce code{'\u00a0'}: le bénéficiaire, l’IBAN, le montant et
                  la référence se remplissent seuls. Vérifiez-les avant de valider.
                </figcaption>
              </figure>
            ) : null}
          </>
        ) : (
          <>
            <p>
              Les coordonnées bancaires de {v.payee} figurent sur votre {v.paperName}. Indiquez dans le libellé du
              virement votre référence.
            </p>
            <p>
              <strong>
                Référence à indiquer{'\u00a0'}: {v.reference}
              </strong>
            </p>
            <ManagerContact view={v} />
          </>
        )}
      </section>

      <section class="card" aria-labelledby="cheque">
        <h2 id="cheque">Par chèque</h2>
        <p>
          Libellez votre chèque à l’ordre de <strong>{v.cheque.payee}</strong>
          {v.cheque.sendTo ? (
            <>
              {' '}
              et envoyez-le à <strong>{v.cheque.sendTo}</strong>
            </>
          ) : (
            <> et envoyez-le à l’adresse indiquée sur votre {v.paperName}</>
          )}
          , accompagné de la vignette de votre {v.paperName} ou d’une feuille portant ces informations{'\u00a0'}:
        </p>
        <dl class="definition-list">
          <dt>Nom</dt>
          <dd>{v.slip.name || '—'}</dd>
          <dt>Référence</dt>
          <dd>{v.slip.reference}</dd>
          {v.slip.manager ? (
            <>
              <dt>Gestionnaire</dt>
              <dd>{v.slip.manager}</dd>
            </>
          ) : null}
          <dt>Montant</dt>
          <dd>{v.slip.amount}</dd>
        </dl>
      </section>
    </>
  );
}

export function CardResultPage({ ctx, view: v }: { ctx: PageContext; view: CardResultView }) {
  return (
    <Layout ctx={ctx} title={`${v.title} – compte N° ${v.account.reference}`}>
      <h1>{v.title}</h1>
      <AccountHeader account={v.account} />
      <BackLink href="/accueil" />
      <section class={`card payment-result payment-${v.status}`} aria-labelledby="etat">
        <h2 id="etat" class="visually-hidden">
          État du paiement
        </h2>
        <p role="status">{v.message}</p>
        <dl class="definition-list">
          <dt>Montant</dt>
          <dd>{v.amount}</dd>
          <dt>Référence du paiement</dt>
          <dd>
            <code>{v.reference}</code>
          </dd>
          <dt>Date</dt>
          <dd>{v.date}</dd>
        </dl>
        <ul class="actions">
          {v.status === 'pending' ? (
            <li>
              <a class="button" href={v.selfHref}>
                Actualiser
              </a>
            </li>
          ) : null}
          {v.status === 'failed' || v.status === 'abandoned' ? (
            <li>
              <a class="button" href={v.payHref}>
                Choisir un autre moyen de paiement
              </a>
            </li>
          ) : null}
          <li>
            <a href={v.statementHref}>Voir le détail de votre compte</a>
          </li>
        </ul>
      </section>
    </Layout>
  );
}

function ManagerContact({ view: v }: { view: PaymentView }) {
  if (!v.manager) {
    return (
      <p>
        Pour toute question, <a href={v.contactHref}>contactez votre gestionnaire</a>.
      </p>
    );
  }
  const m = v.manager;
  return (
    <p>
      Pour toute question, votre gestionnaire <strong>{m.name}</strong> vous répond
      {m.phone ? (
        <>
          {' '}
          au <a href={telHref(m.phone)}>{m.phone}</a>
        </>
      ) : null}
      {m.email ? (
        <>
          {m.phone ? ' ou' : ''} par email à <a href={`mailto:${m.email}`}>{m.email}</a>
        </>
      ) : null}{' '}
      (<a href={v.contactHref}>écrire à votre gestionnaire</a>).
    </p>
  );
}
