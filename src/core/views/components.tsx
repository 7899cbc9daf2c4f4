import type { ComponentChildren, JSX } from 'preact';

type InputType = 'text' | 'email' | 'password' | 'tel' | 'date' | 'number' | 'search';

export function CsrfField({ token }: { token: string }) {
  return <input type="hidden" name="_csrf" value={token} />;
}

export type FormErrors = Partial<Record<string, string>>;

/** The list of problems at the top of a form, each linking to its field (RGAA 11.10). */
export function ErrorSummary({ errors, labels }: { errors: FormErrors; labels?: Record<string, string> }) {
  const entries = Object.entries(errors).filter(([, m]) => m);
  if (entries.length === 0) return null;
  return (
    <div class="error-summary" role="alert" tabIndex={-1}>
      <h2>
        {entries.length === 1
          ? 'Le formulaire contient une erreur :'
          : `Le formulaire contient ${entries.length} erreurs :`}
      </h2>
      <ul>
        {entries.map(([field, message]) => (
          <li key={field}>
            {field === '_form' ? (
              message
            ) : (
              <a href={`#${field}`}>
                {labels?.[field] ? `${labels[field]} : ` : ''}
                {message}
              </a>
            )}
          </li>
        ))}
      </ul>
    </div>
  );
}

export interface FieldProps {
  name: string;
  label: string;
  value?: string | null;
  type?: InputType;
  error?: string;
  hint?: ComponentChildren;
  autocomplete?: string;
  required?: boolean;
  inputMode?: JSX.HTMLAttributes<HTMLInputElement>['inputMode'];
  maxLength?: number;
  spellcheck?: boolean;
  autocapitalize?: 'none' | 'off' | 'sentences' | 'words';
}

/**
 * The limit of a long field, said beside it. Inputs carry no maxlength: a browser would cut
 * a pasted text without a word; the server refuses it and says the limit instead.
 */
function limitHint(maxLength: number | undefined): string | null {
  return maxLength && maxLength >= 100 ? `${formatCount(maxLength)} caractères au plus.` : null;
}

function formatCount(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, '\u202f');
}

function withLimit(hint: ComponentChildren | undefined, maxLength: number | undefined): ComponentChildren | undefined {
  const limit = limitHint(maxLength);
  if (!limit) return hint;
  return hint ? (
    <>
      {hint} {limit}
    </>
  ) : (
    limit
  );
}

/** A labelled input whose hint and error are read out with it (aria-describedby). */
export function Field(props: FieldProps) {
  const p = { ...props, hint: withLimit(props.hint, props.maxLength) };
  const hintId = p.hint ? `${p.name}-aide` : undefined;
  const errorId = p.error ? `${p.name}-erreur` : undefined;
  const describedBy = [hintId, errorId].filter(Boolean).join(' ') || undefined;
  return (
    <div class={p.error ? 'field field-error' : 'field'}>
      <label for={p.name}>
        {p.label}
        {p.required ? <span class="required-mark"> (obligatoire)</span> : null}
      </label>
      {p.hint ? (
        <p class="hint" id={hintId}>
          {p.hint}
        </p>
      ) : null}
      {p.error ? (
        <p class="error-message" id={errorId}>
          <span class="visually-hidden">Erreur : </span>
          {p.error}
        </p>
      ) : null}
      <input
        id={p.name}
        name={p.name}
        type={p.type ?? ('text' as InputType)}
        value={p.type === 'password' ? undefined : (p.value ?? '')}
        autocomplete={p.autocomplete}
        required={p.required}
        aria-invalid={p.error ? 'true' : undefined}
        aria-describedby={describedBy}
        inputMode={p.inputMode}
        spellcheck={p.spellcheck}
        autoCapitalize={p.autocapitalize}
      />
    </div>
  );
}

/** An email input: no spell checking or capital letter on phones, which would only get in the way. */
export function EmailField(p: Omit<FieldProps, 'type' | 'spellcheck' | 'autocapitalize'>) {
  return (
    <Field {...p} type="email" autocomplete={p.autocomplete ?? 'email'} spellcheck={false} autocapitalize="none" />
  );
}

export interface PostFormProps {
  action: string;
  csrfToken: string;
  /** The text of the submit button. */
  submit: ComponentChildren;
  /** Links beside the submit button ("Annuler", "Mot de passe oublié ?"…). */
  secondary?: ComponentChildren;
  children?: ComponentChildren;
}

/**
 * A state-changing form: POST with its CSRF token, and the browser's own validation off
 * because the server's French messages, listed at the top and beside each field, say more.
 */
export function PostForm(p: PostFormProps) {
  return (
    <form method="post" action={p.action} novalidate>
      <CsrfField token={p.csrfToken} />
      {p.children}
      <div class="actions">
        <button type="submit" class="button">
          {p.submit}
        </button>
        {p.secondary}
      </div>
    </form>
  );
}

/** "04 76 00 00 00" → "tel:0476000000": dots, spaces and dashes are not dialled. */
export function telHref(phone: string): string {
  return `tel:${phone.replace(/[^\d+]/g, '')}`;
}

/** The way back from a page, left out when printing. */
export function BackLink({ href, children }: { href: string; children?: ComponentChildren }) {
  return (
    <p class="print-hide">
      <a href={href}>{children ?? 'Retour à l’accueil'}</a>
    </p>
  );
}

export interface SelectProps {
  name: string;
  label: string;
  options: { value: string; label: string }[];
  value?: string | null;
  error?: string;
  required?: boolean;
  autocomplete?: string;
}

export function SelectField(p: SelectProps) {
  const errorId = p.error ? `${p.name}-erreur` : undefined;
  return (
    <div class={p.error ? 'field field-error' : 'field'}>
      <label for={p.name}>
        {p.label}
        {p.required ? <span class="required-mark"> (obligatoire)</span> : null}
      </label>
      {p.error ? (
        <p class="error-message" id={errorId}>
          <span class="visually-hidden">Erreur : </span>
          {p.error}
        </p>
      ) : null}
      <select
        id={p.name}
        name={p.name}
        required={p.required}
        autocomplete={p.autocomplete}
        aria-invalid={p.error ? 'true' : undefined}
        aria-describedby={errorId}
      >
        <option value="">Choisir…</option>
        {p.options.map((o) => (
          <option key={o.value} value={o.value} selected={o.value === p.value}>
            {o.label}
          </option>
        ))}
      </select>
    </div>
  );
}

export function TextArea(p: {
  name: string;
  label: string;
  value?: string;
  error?: string;
  required?: boolean;
  hint?: string;
  maxLength?: number;
}) {
  const hint = withLimit(p.hint, p.maxLength);
  const hintId = hint ? `${p.name}-aide` : undefined;
  const errorId = p.error ? `${p.name}-erreur` : undefined;
  return (
    <div class={p.error ? 'field field-error' : 'field'}>
      <label for={p.name}>
        {p.label}
        {p.required ? <span class="required-mark"> (obligatoire)</span> : null}
      </label>
      {hint ? (
        <p class="hint" id={hintId}>
          {hint}
        </p>
      ) : null}
      {p.error ? (
        <p class="error-message" id={errorId}>
          <span class="visually-hidden">Erreur : </span>
          {p.error}
        </p>
      ) : null}
      <textarea
        id={p.name}
        name={p.name}
        rows={8}
        required={p.required}
        aria-invalid={p.error ? 'true' : undefined}
        aria-describedby={[hintId, errorId].filter(Boolean).join(' ') || undefined}
      >
        {p.value ?? ''}
      </textarea>
    </div>
  );
}

export const CIVILITIES = [
  { value: 'M.', label: 'M.' },
  { value: 'Mme', label: 'Mme' },
  { value: 'M. et Mme', label: 'M. et Mme' },
  { value: 'Société', label: 'Société' },
];
