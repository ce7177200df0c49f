import assert from 'node:assert/strict';
import fhirpath from 'fhirpath';
import r4 from 'fhirpath/fhir-context/r4';
import { demoBundles } from '../../../demo/index.js';
import { branchesForType } from '../../../store/search/definitions/split-expression.js';
import { readDefinition } from '../../../store/fhir/definitions.js';
import {
  choiceWalks,
  compileExtractor,
} from '../../../store/search/indexing/compile-expression.js';

interface Sp {
  code: string;
  base: string[];
  expression?: string;
  type: string;
}
interface Node {
  fhirNodeDataType?: string;
  data?: unknown;
}

/** Decimals as fhirpath.js wraps them, as plain numbers (what the index stores). */
const norm = (x: unknown): string =>
  JSON.stringify(x, (_k, v: unknown) =>
    typeof v === 'object' && v !== null && 'asStr' in v
      ? Number((v as { asStr: string }).asStr)
      : v,
  );

describe('search: direct walks of choice elements and reference filters', () => {
  it('select exactly what fhirpath.js selects, with the same FHIR types', () => {
    const resources: Record<string, unknown>[] = [];
    for (const b of demoBundles({ patients: 2 }))
      for (const e of b.entry ?? [])
        resources.push(e.resource as unknown as Record<string, unknown>);
    resources.push(
      {
        resourceType: 'Observation',
        status: 'final',
        code: { text: 'x' },
        valueString: 'hello',
        effectivePeriod: { start: '2020-01-01' },
        subject: { reference: 'Group/1' },
        component: [
          { code: { text: 'c' }, valueCodeableConcept: { coding: [{ system: 's', code: 'c' }] } },
          { code: { text: 'q' }, valueQuantity: { value: 1.5, unit: 'mg' } },
        ],
      },
      {
        resourceType: 'Condition',
        subject: { reference: 'https://example.org/fhir/Patient/p/_history/2' },
        onsetAge: { value: 3, unit: 'a' },
        abatementString: 'gone',
      },
      { resourceType: 'Patient', deceasedDateTime: '2020-02-02' },
    );
    const sps = readDefinition<{ entry: { resource: Sp }[] }>('search-parameters.json').entry;
    let compared = 0;
    for (const r of resources) {
      const type = String(r.resourceType);
      for (const { resource: sp } of sps) {
        if (sp.expression === undefined || sp.type === 'composite') continue;
        if (!sp.base.some((b) => b === type || b === 'Resource' || b === 'DomainResource'))
          continue;
        for (const branch of branchesForType(sp.expression, type)) {
          if (choiceWalks(branch) === undefined && !branch.includes('reference.matches')) continue;
          const mine = compileExtractor(branch)(r).map((x) => [x.type, x.value]);
          const fn = fhirpath.compile(branch, r4, { resolveInternalTypes: false }) as (
            x: unknown,
          ) => Node[];
          const theirs = fn(r).map((v) => [v.fhirNodeDataType, v.data ?? v]);
          assert.equal(norm(mine), norm(theirs), `${type} ${sp.code}: ${branch}`);
          compared++;
        }
      }
    }
    assert.ok(compared > 1000, `compared ${compared}`);
  });

  it('walks every variant of a bare choice element, and only the asked one under ofType', () => {
    const effective = choiceWalks('Observation.effective');
    assert.deepEqual(
      effective?.map((w) => [w.segments.join('.'), w.type]),
      [
        ['effectiveDateTime', 'dateTime'],
        ['effectivePeriod', 'Period'],
        ['effectiveTiming', 'Timing'],
        ['effectiveInstant', 'instant'],
      ],
    );
    assert.deepEqual(choiceWalks('(Observation.component.value.ofType(Quantity))'), [
      { segments: ['component', 'valueQuantity'], type: 'Quantity' },
    ]);
    assert.deepEqual(choiceWalks('(Observation.value.ofType(CodeableConcept)).text'), [
      { segments: ['valueCodeableConcept', 'text'], type: 'string' },
    ]);
    assert.equal(choiceWalks('Observation.code'), undefined);
    assert.equal(choiceWalks('Observation.value.ofType(Attachment)'), undefined);
  });
});
