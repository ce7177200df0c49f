import type { Targets } from './dataset.js';

/** The search mix: each query with the URLs it cycles through and the token it runs under. */
export function searchMix(fhirBase: string, t: Targets, patientLabQuery: string) {
  const enc = encodeURIComponent;
  const pc = t.patientCodes;
  const years = t.years.length > 0 ? t.years : ['2024'];
  return [
    {
      id: 'patient-code',
      label: 'patient + code',
      urls: pc.map(
        (x) => `${fhirBase}/Observation?patient=Patient/${x.patient}&code=${enc(x.code)}`,
      ),
      token: 'system' as const,
    },
    {
      id: 'date-range',
      label: 'date range (one quarter)',
      urls: years.flatMap((y) =>
        ['01', '04', '07', '10'].map(
          (m, i) =>
            `${fhirBase}/Observation?date=ge${y}-${m}-01&date=lt${i === 3 ? `${Number(y) + 1}-01` : `${y}-${['04', '07', '10'][i] ?? '01'}`}-01`,
        ),
      ),
      token: 'system' as const,
    },
    {
      id: 'chain',
      label: 'chain (Observation?patient.family=)',
      urls: t.families.map((f) => `${fhirBase}/Observation?patient.family=${enc(f)}`),
      token: 'system' as const,
    },
    {
      id: 'has',
      label: '_has (Patient?_has:Observation:patient:code=)',
      urls: t.observationCodes.map(
        (c) => `${fhirBase}/Patient?_has:Observation:patient:code=${enc(c)}`,
      ),
      token: 'system' as const,
    },
    {
      id: 'include',
      label: '_include (Observation:patient)',
      urls: t.patientIds.map(
        (p) => `${fhirBase}/Observation?patient=Patient/${p}&_include=Observation:patient`,
      ),
      token: 'system' as const,
    },
    {
      id: 'patient-scoped',
      label: 'patient-scoped (granular lab token)',
      urls: [`${fhirBase}/${patientLabQuery}`],
      token: 'patient' as const,
    },
  ];
}
