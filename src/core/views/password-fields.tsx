import { PASSWORD_RULE_TEXT } from '../security/password-policy.ts';
import { Field, type FormErrors } from './components.tsx';

export interface NewPasswordFieldsProps {
  errors?: FormErrors;
  /** Field names, as the form's schema reads them. */
  names?: { password: string; confirm: string };
  labels?: { password: string; confirm: string };
}

/**
 * A new personal password typed twice, the policy explained beside it; the password manager
 * is told it is a new one (autocomplete="new-password").
 */
export function NewPasswordFields({
  errors,
  names = { password: 'password', confirm: 'confirm' },
  labels = { password: 'Nouveau mot de passe', confirm: 'Confirmer le mot de passe' },
}: NewPasswordFieldsProps) {
  return (
    <>
      <Field
        name={names.password}
        label={labels.password}
        type="password"
        hint={PASSWORD_RULE_TEXT}
        error={errors?.[names.password]}
        autocomplete="new-password"
        required
      />
      <Field
        name={names.confirm}
        label={labels.confirm}
        type="password"
        error={errors?.[names.confirm]}
        autocomplete="new-password"
        required
      />
    </>
  );
}
