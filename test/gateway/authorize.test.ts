import assert from 'node:assert/strict';
import { authorizeBundle } from '../../gateway/authz/decide-bundle.js';
import { authorize, type Decision } from '../../gateway/authz/decide.js';
import { grantsFromScopes } from '../../gateway/authz/grants.js';
import { parseInteraction } from '../../gateway/authz/interaction.js';
import { parseRolesFile } from '../../auth/roles/index.js';
import { RoleSet } from '../../gateway/authz/roles.js';
import { encodeConstraint } from '../../store/protocol.js';

const roles = new RoleSet(
  parseRolesFile(
    JSON.stringify({
      roles: [
        { name: 'observation-reader', dataActions: ['read'], resourceTypes: ['Observation'] },
        { name: 'no-hard-delete', dataActions: ['*'], notDataActions: ['hardDelete'] },
      ],
    }),
  ),
);

interface Who {
  patient?: string;
  fhirUser?: string;
  roles?: string[];
  external?: boolean;
}

function decide(
  scopes: string,
  who: Who,
  method: string,
  url: string,
  ifNoneExist?: string,
): Decision {
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const query = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
  return authorize(parseInteraction(method, path, query, ifNoneExist), {
    grants: grantsFromScopes(scopes.split(' ')),
    subject: { patient: who.patient, fhirUser: who.fhirUser },
    roleNames: who.roles ?? ['fhir-data-contributor'],
    roles,
    inQueryEnforcement: who.external !== true,
  });
}

const P = { patient: '123', fhirUser: 'Practitioner/9' };
const PATIENT_USER = { fhirUser: 'Patient/77' };
const CLINICIAN = { fhirUser: 'Practitioner/9' };

interface Case {
  name: string;
  scopes: string;
  who: Who;
  req: [string, string] | [string, string, string];
  /** `allow` or the deny rule. */
  expect: string;
  /** For allows: the expected access to a type in the constraint (`-` for absent). */
  access?: Record<string, { compartment?: string; anyOf?: string[] } | '-'>;
  insufficientScope?: boolean;
}

const cases: Case[] = [
  {
    name: 'patient/Observation.rs reads an Observation within the context patient',
    scopes: 'patient/Observation.rs',
    who: P,
    req: ['GET', 'Observation/1'],
    expect: 'allow',
    access: { Observation: { compartment: 'Patient/123' } },
  },
  {
    name: 'patient/Observation.rs searches Observations within the context patient',
    scopes: 'patient/Observation.rs',
    who: P,
    req: ['GET', 'Observation?code=x'],
    expect: 'allow',
    access: { Observation: { compartment: 'Patient/123' }, Condition: '-' },
  },
  {
    name: 'v1 patient/Observation.read equals rs',
    scopes: 'patient/Observation.read',
    who: P,
    req: ['GET', 'Observation?code=x'],
    expect: 'allow',
  },
  {
    name: 'r alone does not allow search',
    scopes: 'patient/Observation.r',
    who: P,
    req: ['GET', 'Observation'],
    expect: 'scope-missing',
    insufficientScope: true,
  },
  {
    name: 's alone does not allow read',
    scopes: 'patient/Observation.s',
    who: P,
    req: ['GET', 'Observation/1'],
    expect: 'scope-missing',
    insufficientScope: true,
  },
  {
    name: 'a read scope does not allow create',
    scopes: 'patient/Observation.rs',
    who: P,
    req: ['POST', 'Observation'],
    expect: 'scope-missing',
    insufficientScope: true,
  },
  {
    name: 'patient/Observation.c creates inside the compartment',
    scopes: 'patient/Observation.c',
    who: P,
    req: ['POST', 'Observation'],
    expect: 'allow',
    access: { Observation: { compartment: 'Patient/123' } },
  },
  {
    name: 'update needs u',
    scopes: 'patient/Observation.crs',
    who: P,
    req: ['PUT', 'Observation/1'],
    expect: 'scope-missing',
  },
  {
    name: 'patch needs u',
    scopes: 'patient/Observation.u',
    who: P,
    req: ['PATCH', 'Observation/1'],
    expect: 'allow',
  },
  {
    name: 'delete needs d',
    scopes: 'patient/Observation.cru',
    who: P,
    req: ['DELETE', 'Observation/1'],
    expect: 'scope-missing',
  },
  {
    name: 'instance history needs r and stays in the compartment',
    scopes: 'patient/Observation.r',
    who: P,
    req: ['GET', 'Observation/1/_history'],
    expect: 'allow',
    access: { Observation: { compartment: 'Patient/123' } },
  },
  {
    name: 'HEAD is decided as GET',
    scopes: 'patient/Observation.r',
    who: P,
    req: ['HEAD', 'Observation/1'],
    expect: 'allow',
  },
  {
    name: 'vread needs r',
    scopes: 'patient/Observation.r',
    who: P,
    req: ['GET', 'Observation/1/_history/2'],
    expect: 'allow',
  },
  {
    name: 'AuditEvent is not readable under patient scopes',
    scopes: 'patient/*.rs',
    who: { ...P, roles: ['fhir-audit-reader', 'fhir-data-contributor'] },
    req: ['GET', 'AuditEvent'],
    expect: 'not-readable-under-patient-scope',
  },
  {
    name: 'Group is not readable under patient scopes',
    scopes: 'patient/*.rs',
    who: P,
    req: ['GET', 'Group/1'],
    expect: 'not-readable-under-patient-scope',
  },
  {
    name: 'patient/*.rs keeps Group and AuditEvent out of the constraint',
    scopes: 'patient/*.rs',
    who: P,
    req: ['GET', 'Observation?code=x'],
    expect: 'allow',
    access: {
      Group: '-',
      AuditEvent: '-',
      '*': '-',
      Condition: { compartment: 'Patient/123' },
      Practitioner: {},
    },
  },
  {
    name: 'non-compartment types are readable under patient scopes',
    scopes: 'patient/*.rs',
    who: P,
    req: ['GET', 'Practitioner/1'],
    expect: 'allow',
    access: { Practitioner: {} },
  },
  {
    name: 'non-compartment types are searchable under patient scopes',
    scopes: 'patient/Medication.rs',
    who: P,
    req: ['GET', 'Medication?code=x'],
    expect: 'allow',
    access: { Medication: {} },
  },
  {
    name: 'non-compartment types are not writable under patient scopes',
    scopes: 'patient/*.cruds',
    who: P,
    req: ['POST', 'Practitioner'],
    expect: 'patient-scope-cannot-write-outside-compartment',
    insufficientScope: true,
  },
  {
    name: 'type history is refused under patient scopes',
    scopes: 'patient/*.rs',
    who: P,
    req: ['GET', 'Observation/_history'],
    expect: 'history-under-patient-scope',
  },
  {
    name: 'system history is refused under patient scopes',
    scopes: 'patient/*.rs',
    who: P,
    req: ['GET', '_history'],
    expect: 'history-under-patient-scope',
  },
  {
    name: 'type history is allowed under user scopes of a practitioner',
    scopes: 'user/*.rs',
    who: CLINICIAN,
    req: ['GET', 'Observation/_history'],
    expect: 'allow',
    access: { Observation: {} },
  },
  {
    name: 'binding is per scope: user/Observation.rs is not confined next to patient/*.rs',
    scopes: 'patient/*.rs user/Observation.rs',
    who: P,
    req: ['GET', 'Observation?code=x'],
    expect: 'allow',
    access: { Observation: {}, Condition: { compartment: 'Patient/123' } },
  },
  {
    name: 'user scopes of a Patient user are confined to that patient',
    scopes: 'user/*.rs',
    who: PATIENT_USER,
    req: ['GET', 'Observation/5'],
    expect: 'allow',
    access: { Observation: { compartment: 'Patient/77' } },
  },
  {
    name: 'a patient scope without a patient in context allows nothing',
    scopes: 'patient/Observation.rs',
    who: CLINICIAN,
    req: ['GET', 'Observation/1'],
    expect: 'no-patient-context',
  },
  {
    name: 'system scopes are never confined',
    scopes: 'system/*.rs',
    who: { roles: ['fhir-data-reader'] },
    req: ['GET', 'Observation?code=x'],
    expect: 'allow',
    access: { '*': {} },
  },
  {
    name: 'a scope is not enough without a role',
    scopes: 'patient/*.cruds',
    who: { ...P, roles: [] },
    req: ['GET', 'Observation/1'],
    expect: 'role-missing',
    insufficientScope: false,
  },
  {
    name: 'fhir-data-reader cannot create',
    scopes: 'patient/*.cruds',
    who: { ...P, roles: ['fhir-data-reader'] },
    req: ['POST', 'Observation'],
    expect: 'role-missing',
  },
  {
    name: 'fhir-smart-user is read-only',
    scopes: 'patient/*.cruds',
    who: { ...P, roles: ['fhir-smart-user'] },
    req: ['DELETE', 'Observation/1'],
    expect: 'role-missing',
  },
  {
    name: 'fhir-smart-user reads',
    scopes: 'patient/*.cruds',
    who: { ...P, roles: ['fhir-smart-user'] },
    req: ['GET', 'Observation/1'],
    expect: 'allow',
  },
  {
    name: 'fhir-data-writer deletes softly',
    scopes: 'user/*.cruds',
    who: { ...CLINICIAN, roles: ['fhir-data-writer'] },
    req: ['DELETE', 'Observation/1'],
    expect: 'allow',
  },
  {
    name: 'fhir-data-writer cannot hard-delete',
    scopes: 'user/*.cruds',
    who: { ...CLINICIAN, roles: ['fhir-data-writer'] },
    req: ['DELETE', 'Observation/1?hardDelete=true'],
    expect: 'role-missing',
  },
  {
    name: 'notDataActions removes hardDelete from a custom role',
    scopes: 'user/*.cruds',
    who: { ...CLINICIAN, roles: ['no-hard-delete'] },
    req: ['DELETE', 'Observation/1?hardDelete=true'],
    expect: 'role-missing',
  },
  {
    name: 'fhir-data-contributor hard-deletes',
    scopes: 'user/*.cruds',
    who: CLINICIAN,
    req: ['DELETE', 'Observation/1?hardDelete=true'],
    expect: 'allow',
  },
  {
    name: 'a role narrowed to Observation reads Observation',
    scopes: 'user/*.rs',
    who: { ...CLINICIAN, roles: ['observation-reader'] },
    req: ['GET', 'Observation/1'],
    expect: 'allow',
  },
  {
    name: 'a role narrowed to Observation does not read Condition',
    scopes: 'user/*.rs',
    who: { ...CLINICIAN, roles: ['observation-reader'] },
    req: ['GET', 'Condition/1'],
    expect: 'role-missing',
  },
  {
    name: 'conditional create needs c and s',
    scopes: 'patient/Observation.c',
    who: P,
    req: ['POST', 'Observation', 'identifier=x'],
    expect: 'scope-missing',
  },
  {
    name: 'conditional create with cs is allowed',
    scopes: 'patient/Observation.cs',
    who: P,
    req: ['POST', 'Observation', 'identifier=x'],
    expect: 'allow',
  },
  {
    name: 'conditional update needs u, c and s (it may create)',
    scopes: 'patient/Observation.us',
    who: P,
    req: ['PUT', 'Observation?identifier=x'],
    expect: 'scope-missing',
  },
  {
    name: 'conditional update with cus is allowed',
    scopes: 'patient/Observation.cus',
    who: P,
    req: ['PUT', 'Observation?identifier=x'],
    expect: 'allow',
  },
  {
    name: 'conditional delete needs d and s',
    scopes: 'patient/Observation.d',
    who: P,
    req: ['DELETE', 'Observation?identifier=x'],
    expect: 'scope-missing',
  },
  {
    name: 'conditional delete needs the search action of a role too',
    scopes: 'user/Observation.ds',
    who: { ...CLINICIAN, roles: ['fhir-data-writer'] },
    req: ['DELETE', 'Observation?identifier=x'],
    expect: 'allow',
  },
  {
    name: '$export needs a system scope',
    scopes: 'user/*.rs',
    who: { ...CLINICIAN, roles: ['fhir-data-exporter'] },
    req: ['GET', '$export'],
    expect: 'system-scope-required',
  },
  {
    name: '$export with system/*.rs and the exporter role',
    scopes: 'system/*.rs',
    who: { roles: ['fhir-data-exporter'] },
    req: ['GET', '$export'],
    expect: 'allow',
  },
  {
    name: '$export needs the export data action',
    scopes: 'system/*.rs',
    who: { roles: ['fhir-data-reader'] },
    req: ['GET', 'Patient/$export'],
    expect: 'role-missing',
  },
  {
    name: '$everything of the context patient',
    scopes: 'patient/*.rs',
    who: P,
    req: ['GET', 'Patient/123/$everything'],
    expect: 'allow',
    access: { Patient: { compartment: 'Patient/123' } },
  },
  {
    name: 'an unknown operation is refused',
    scopes: 'user/*.cruds',
    who: CLINICIAN,
    req: ['POST', 'Patient/$frobnicate'],
    expect: 'operation-not-supported',
  },
  {
    name: 'the audit reader reads AuditEvents with a user scope',
    scopes: 'user/AuditEvent.rs',
    who: { ...CLINICIAN, roles: ['fhir-audit-reader'] },
    req: ['GET', 'AuditEvent?action=R'],
    expect: 'allow',
  },
  {
    name: 'fhir-data-contributor does not read the audit trail',
    scopes: 'user/*.rs',
    who: CLINICIAN,
    req: ['GET', 'AuditEvent'],
    expect: 'role-missing',
  },
  {
    name: 'the audit trail is read-only',
    scopes: 'user/*.cruds',
    who: { ...CLINICIAN, roles: ['fhir-audit-reader'] },
    req: ['DELETE', 'AuditEvent/1'],
    expect: 'audit-trail-read-only',
  },
  {
    name: 'a granular scope becomes a filter',
    scopes:
      'patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory',
    who: P,
    req: ['GET', 'Observation'],
    expect: 'allow',
    access: {
      Observation: {
        compartment: 'Patient/123',
        anyOf: [
          'category=http%3A%2F%2Fterminology.hl7.org%2FCodeSystem%2Fobservation-category%7Claboratory',
        ],
      },
    },
  },
  {
    name: 'granular scopes on one type are a union',
    scopes:
      'patient/Observation.rs?category=laboratory patient/Observation.rs?category=vital-signs',
    who: P,
    req: ['GET', 'Observation/1'],
    expect: 'allow',
    access: {
      Observation: {
        compartment: 'Patient/123',
        anyOf: ['category=laboratory', 'category=vital-signs'],
      },
    },
  },
  {
    name: 'a whole-type scope absorbs a granular one',
    scopes: 'patient/Observation.rs?category=laboratory patient/Observation.rs',
    who: P,
    req: ['GET', 'Observation/1'],
    expect: 'allow',
    access: { Observation: { compartment: 'Patient/123' } },
  },
  {
    name: 'a compartment search of another patient stays confined',
    scopes: 'patient/*.rs',
    who: P,
    req: ['GET', 'Patient/456/Observation'],
    expect: 'allow',
    access: { Observation: { compartment: 'Patient/123' } },
  },
  {
    name: 'chains are refused under patient scopes when the backend cannot confine them',
    scopes: 'patient/*.rs',
    who: { ...P, external: true },
    req: ['GET', 'Observation?subject.name=smith'],
    expect: 'chain-not-enforceable',
  },
  {
    name: '_has is refused under patient scopes when the backend cannot confine it',
    scopes: 'patient/*.rs',
    who: { ...P, external: true },
    req: ['GET', 'Practitioner?_has:Observation:performer:subject=Patient/456'],
    expect: 'chain-not-enforceable',
  },
  {
    name: 'chains go to the built-in store, which confines them in the query',
    scopes: 'patient/*.rs',
    who: P,
    req: ['GET', 'Observation?subject.name=smith'],
    expect: 'allow',
    access: { Patient: { compartment: 'Patient/123' } },
  },
  {
    name: 'system search needs a search scope for each _type',
    scopes: 'user/Observation.rs',
    who: CLINICIAN,
    req: ['GET', '?_type=Observation,Condition'],
    expect: 'scope-missing',
  },
  {
    name: 'capabilities need nothing',
    scopes: '',
    who: { roles: [] },
    req: ['GET', 'metadata'],
    expect: 'allow',
  },
];

describe('gateway authorize (scopes × roles × compartment × interaction)', () => {
  for (const c of cases) {
    it(c.name, () => {
      const [method, url, ifNoneExist] = c.req;
      const d = decide(c.scopes, c.who, method, url, ifNoneExist);
      if (c.expect === 'allow') {
        assert.equal(d.allow, true, d.allow ? '' : `${d.rule}: ${d.reason}`);
        for (const [type, access] of Object.entries(c.access ?? {})) {
          if (access === '-')
            assert.equal(d.constraint.types[type], undefined, `${type} should be invisible`);
          else assert.deepEqual(d.constraint.types[type], access, type);
        }
      } else {
        assert.equal(d.allow, false, `expected ${c.expect}`);
        assert.equal(d.rule, c.expect, d.reason);
        if (c.insufficientScope !== undefined)
          assert.equal(d.insufficientScope, c.insufficientScope);
      }
    });
  }

  it('keeps a patient-confined constraint small enough for one header', () => {
    const d = decide(
      'patient/*.rs',
      { patient: '6b1d5a7c-1f0e-4d1e-9a67-3a0f1b2c3d4e' },
      'GET',
      'Observation',
    );
    assert.ok(d.allow);
    assert.ok(
      encodeConstraint(d.constraint).length < 12_000,
      String(encodeConstraint(d.constraint).length),
    );
  });

  describe('bundles', () => {
    const input = {
      grants: grantsFromScopes(['patient/Observation.crus']),
      subject: { patient: '123', fhirUser: undefined },
      roleNames: ['fhir-data-contributor'],
      roles,
      inQueryEnforcement: true,
    };
    const entry = (method: string, url: string) => ({
      request: { method, url },
      resource: { resourceType: 'Observation' },
    });

    it('refuses a whole transaction when one entry is denied, naming the entry', () => {
      const b = authorizeBundle(
        {
          resourceType: 'Bundle',
          type: 'transaction',
          entry: [entry('POST', 'Observation'), entry('DELETE', 'Observation/1')],
        },
        input,
      );
      assert.equal(b.decision.allow, false);
      assert.equal(b.decision.rule, 'transaction-entry-denied');
      assert.match(b.decision.reason, /entry 1/);
    });

    it('allows a transaction whose entries are all allowed, under one merged constraint', () => {
      const b = authorizeBundle(
        {
          resourceType: 'Bundle',
          type: 'transaction',
          entry: [entry('POST', 'Observation'), entry('GET', 'Observation/2')],
        },
        input,
      );
      assert.equal(b.decision.allow, true);
      assert.deepEqual(b.decision.constraint.types.Observation, { compartment: 'Patient/123' });
    });

    it('decides each batch entry alone', () => {
      const b = authorizeBundle(
        {
          resourceType: 'Bundle',
          type: 'batch',
          entry: [
            entry('GET', 'Observation/1'),
            entry('DELETE', 'Observation/1'),
            entry('GET', 'Condition/1'),
          ],
        },
        input,
      );
      assert.deepEqual(
        b.entries.map((e) => e.decision?.allow),
        [true, false, false],
      );
    });

    it('decides a conditional create entry on what it may become', () => {
      const b = authorizeBundle(
        {
          resourceType: 'Bundle',
          type: 'batch',
          entry: [{ request: { method: 'POST', url: 'Observation', ifNoneExist: 'identifier=x' } }],
        },
        { ...input, grants: grantsFromScopes(['patient/Observation.c']) },
      );
      assert.equal(b.entries[0]?.decision?.allow, false);
    });
  });
});
