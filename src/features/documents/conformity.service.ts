import type { Ctx } from '../../core/context.ts';
import { AppError } from '../../core/errors.ts';
import { todayInParis } from '../../core/format.ts';
import { CATEGORIES } from './categories.ts';
import { allBuildings, buildingByCode, currentBuildingDocuments } from './documents.repository.ts';

/** How many general assemblies' minutes the décret asks for: « les trois dernières ». */
export const AG_YEARS = 3;

export interface BuildingConformity {
  code: string;
  name: string;
  /** French lines, one per missing document: « fiche synthétique manquante », « PV d’AG 2025 manquant ». */
  missing: string[];
}

export interface ConformityReport {
  /** The calendar years a PV d’AG is expected for, oldest first. */
  agYears: number[];
  buildings: BuildingConformity[];
}

/**
 * For each building (or the one asked for), the categories the décret requires in the
 * building and council spaces that have no current document. The last three general
 * assemblies are taken to be one a year: a current PV dated in each of the three calendar
 * years before this one is expected (a PV of this year counts for nothing missing, since
 * this year's AG may not have taken place yet). Private documents, per account, are not
 * checked here.
 */
export async function conformityReport(ctx: Ctx, buildingCode?: string): Promise<ConformityReport> {
  let buildings;
  if (buildingCode !== undefined) {
    const b = await buildingByCode(ctx.db, buildingCode);
    if (!b) {
      throw new AppError(
        'unknown_building',
        'unknown building',
        `Immeuble inconnu\u00a0: «\u00a0${buildingCode}\u00a0».`,
        404,
      );
    }
    buildings = [b];
  } else {
    buildings = await allBuildings(ctx.db);
  }
  const docs = await currentBuildingDocuments(
    ctx.db,
    buildings.map((b) => b.id),
  );
  const year = Number(todayInParis(ctx.now()).slice(0, 4));
  const agYears = Array.from({ length: AG_YEARS }, (_, i) => year - AG_YEARS + i);
  const required = CATEGORIES.filter((c) => c.required && c.space !== 'account');

  return {
    agYears,
    buildings: buildings.map((b) => {
      const mine = docs.filter((d) => d.building_id === b.id);
      const missing: string[] = [];
      for (const cat of required) {
        const ofCat = mine.filter((d) => d.category === cat.code && d.scope === cat.space);
        if (cat.code === 'proces_verbal_ag') {
          const years = new Set(ofCat.map((d) => Number(d.document_date.slice(0, 4))));
          for (const y of agYears) if (!years.has(y)) missing.push(`PV d’AG ${y} manquant`);
        } else if (ofCat.length === 0) {
          missing.push(cat.missing);
        }
      }
      return { code: b.code, name: b.name, missing };
    }),
  };
}
