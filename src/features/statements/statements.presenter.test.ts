import { describe, expect, it } from 'vitest';
import { computeStatement, dayBefore, statementCsv, statementFileName } from './statements.presenter.ts';
import { isCalendarDate, periodSchema } from './statements.schemas.ts';

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
