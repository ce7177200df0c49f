import { demoBundles } from '../../../../demo/index.js';
import { r4ResourceTypes } from '../../../../store/fhir/resource-types.js';
import { loadTypesUsedBy } from '../../../../store/fhir/type-schemas.js';
import { validateFhirResource } from '../../../../store/fhir/validate.js';

/**
 * Run as its own process (fresh definitions): validates a corpus and prints the issues as JSON.
 * argv[2]: `lazy` (definitions load as resources need them), `all` (every resource type loaded
 * first) or `reverse` (lazily, the corpus in reverse order).
 */

function corpus(): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const b of demoBundles({ patients: 2 })) {
    for (const e of b.entry ?? []) if (e.resource !== undefined) out.push({ ...e.resource });
  }
  const types = [...r4ResourceTypes()].sort();
  types.forEach((t, i) => {
    const other = types[(i + 7) % types.length] ?? 'Patient';
    out.push({ resourceType: t });
    out.push({ resourceType: t, id: 'x1', bogus: 1, text: { status: 'generated' } });
    out.push({
      resourceType: t,
      contained: [{ resourceType: 'Patient', id: 'p', gender: 'bad' }, { resourceType: other }],
    });
    out.push({ resourceType: t, status: 'nonsense', subject: { reference: 'Group/1' } });
  });
  out.push(
    {
      resourceType: 'Bundle',
      type: 'transaction-response',
      entry: [{ response: { status: '200', outcome: { issue: [{ severity: 'bad' }] } } }],
    },
    {
      resourceType: 'Bundle',
      type: 'collection',
      entry: [
        { resource: { resourceType: 'Observation', status: 'final' } },
        { resource: { resourceType: 'NotAType' } },
        { resource: { id: 'no-type' } },
      ],
    },
    {
      resourceType: 'Parameters',
      parameter: [{ name: 'r', resource: { resourceType: 'Encounter', status: 'bad' } }],
    },
    {
      resourceType: 'CareTeam',
      participant: [
        { member: { reference: 'Patient/1' }, onBehalfOf: { reference: 'Organization/1' } },
      ],
    },
  );
  return out;
}

const mode = process.argv[2] ?? 'lazy';
const resources = corpus();
if (mode === 'all') loadTypesUsedBy([...r4ResourceTypes()].map((t) => ({ resourceType: t })));
const order = resources.map((_, i) => i);
if (mode === 'reverse') order.reverse();
const results: unknown[] = new Array(resources.length);
for (const i of order) results[i] = validateFhirResource(resources[i]);
process.stdout.write(JSON.stringify(results));
