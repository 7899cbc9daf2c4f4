import { describe, expect, it } from 'vitest';
import { echoForm, idParam } from './input.ts';

describe('echoForm', () => {
  it('gives back what was typed, postal code included, but never a password, code or token', () => {
    const typed = echoForm(
      {
        postalCode: '38000',
        city: ['Grenoble', 'x'],
        password: 'Secret123',
        confirm: 'Secret123',
        currentPassword: 'a',
        emailPassword: 'b',
        code: 'AB3K-7QWZ',
        token: 't',
        age: 3,
      },
      ['postalCode', 'city', 'password', 'confirm', 'currentPassword', 'emailPassword', 'code', 'token', 'age'],
    );
    expect(typed).toEqual({
      postalCode: '38000',
      city: 'Grenoble',
      password: '',
      confirm: '',
      currentPassword: '',
      emailPassword: '',
      code: '',
      token: '',
      age: '',
    });
  });
});

describe('idParam', () => {
  it('takes positive integers only, as written in a URL', () => {
    expect(idParam.safeParse('42').data).toBe(42);
    for (const bad of ['0', '007', '1e3', ' 1', '-1', '99999999999', 'abc'])
      expect(idParam.safeParse(bad).success).toBe(false);
  });
});
