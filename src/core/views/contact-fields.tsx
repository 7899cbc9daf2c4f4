import type { ComponentChildren } from 'preact';
import { CIVILITIES, EmailField, Field, SelectField, type FormErrors } from './components.tsx';

export type ContactFieldName =
  'civility' | 'lastName' | 'firstName' | 'email' | 'phone' | 'address' | 'postalCode' | 'city' | 'country';

export type ContactValues = Partial<Record<ContactFieldName, string | null>>;

export interface ContactFieldsProps {
  values: ContactValues;
  errors?: FormErrors;
  /** Fields that may be left empty; every other one is marked required. */
  optional?: readonly ContactFieldName[];
  /** The civility list; a stored value outside the standard list is added by the caller. */
  civilities?: { value: string; label: string }[];
  /**
   * What the email address is used for, shown under it. Without it the form has no email
   * field: the profile changes the login address apart, with a confirmation by mail.
   */
  emailHint?: string;
  /** Fields placed between the email and the phone (the personal password when creating a space). */
  afterEmail?: ComponentChildren;
}

/**
 * Civilité, Nom, Prénom, Email, Téléphone, Adresse, Code postal, Ville, Pays: a person's contact
 * details, in the order of the agency's paper forms. Names and lengths match the schemas
 * of the claim, the profile and "Mes coordonnées".
 */
export function ContactFields(p: ContactFieldsProps) {
  const e = p.errors ?? {};
  const v = p.values;
  const required = (name: ContactFieldName) => !p.optional?.includes(name);
  return (
    <>
      <SelectField
        name="civility"
        label="Civilité"
        options={p.civilities ?? CIVILITIES}
        value={v.civility}
        error={e.civility}
        autocomplete="honorific-prefix"
        required={required('civility')}
      />
      <Field
        name="lastName"
        label="Nom"
        value={v.lastName}
        error={e.lastName}
        autocomplete="family-name"
        required={required('lastName')}
        maxLength={100}
      />
      <Field
        name="firstName"
        label="Prénom"
        value={v.firstName}
        error={e.firstName}
        autocomplete="given-name"
        required={required('firstName')}
        maxLength={100}
      />
      {p.emailHint ? (
        <EmailField
          name="email"
          label="Email"
          value={v.email}
          error={e.email}
          hint={p.emailHint}
          required={required('email')}
          maxLength={254}
        />
      ) : null}
      {p.afterEmail}
      <Field
        name="phone"
        label="Téléphone"
        type="tel"
        value={v.phone}
        error={e.phone}
        hint={'Par exemple 06\u00a012\u00a034\u00a056\u00a078 ou +33\u00a06\u00a012\u00a034\u00a056\u00a078.'}
        autocomplete="tel"
        required={required('phone')}
        maxLength={25}
      />
      <Field
        name="address"
        label="Adresse"
        value={v.address}
        error={e.address}
        autocomplete="street-address"
        required={required('address')}
        maxLength={200}
      />
      <Field
        name="postalCode"
        label="Code postal"
        value={v.postalCode}
        error={e.postalCode}
        hint="5 chiffres en France ; à l’étranger, le code postal du pays indiqué plus bas."
        autocomplete="postal-code"
        required={required('postalCode')}
        maxLength={10}
      />
      <Field
        name="city"
        label="Ville"
        value={v.city}
        error={e.city}
        autocomplete="address-level2"
        required={required('city')}
        maxLength={100}
      />
      {/* Empty means France: most addresses are French, so the field is prefilled and optional. */}
      <Field
        name="country"
        label="Pays"
        value={v.country || 'France'}
        error={e.country}
        hint="France, ou le pays de votre adresse à l’étranger."
        autocomplete="country-name"
        required={false}
        maxLength={60}
      />
    </>
  );
}
