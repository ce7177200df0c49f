import type { CapabilityStatement, CapabilityStatementRestResource } from '@medplum/fhirtypes';
import { badGateway } from '../../store/fhir/outcome.js';
import { FHIR_JSON } from '../errors.js';
import type { UrlRewriter } from '../proxy/rewrite.js';
import type { Upstream } from '../proxy/upstream.js';
import type { GatewayMiddleware } from '../state.js';

/** What SMART discovery publishes (from auth): the endpoints the oauth-uris extension repeats. */
export type SmartConfigurationSource = () =>
  Record<string, unknown> | Promise<Record<string, unknown>>;

const OAUTH_URIS = 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris';

const AUDIT_EVENT_RESOURCE: CapabilityStatementRestResource = {
  type: 'AuditEvent',
  interaction: [{ code: 'read' }, { code: 'search-type' }],
  searchParam: [
    { name: 'date', type: 'date' },
    { name: 'agent', type: 'reference' },
    { name: 'entity', type: 'reference' },
    { name: 'patient', type: 'reference' },
    { name: 'action', type: 'token' },
    { name: 'outcome', type: 'token' },
    { name: 'type', type: 'token' },
    { name: 'subtype', type: 'token' },
  ],
};

/** The backend's CapabilityStatement with SMART security and the gateway's AuditEvent endpoint. */
export function withSmartSecurity(
  cs: CapabilityStatement,
  smart: Record<string, unknown>,
  fhirBase: string,
): CapabilityStatement {
  const uri = (k: string) => (typeof smart[k] === 'string' ? smart[k] : undefined);
  const ext = [
    ['authorize', uri('authorization_endpoint')],
    ['token', uri('token_endpoint')],
    ['revoke', uri('revocation_endpoint')],
    ['introspect', uri('introspection_endpoint')],
    ['manage', uri('management_endpoint')],
  ].filter((e): e is [string, string] => e[1] !== undefined);
  const rest = cs.rest?.length ? cs.rest : [{ mode: 'server' as const }];
  return {
    ...cs,
    implementation: { ...(cs.implementation ?? { description: 'Hearth' }), url: fhirBase },
    rest: rest.map((r, i) =>
      i !== 0
        ? r
        : {
            ...r,
            security: {
              cors: true,
              service: [
                {
                  coding: [
                    {
                      system: 'http://terminology.hl7.org/CodeSystem/restful-security-service',
                      code: 'SMART-on-FHIR',
                      display: 'SMART-on-FHIR',
                    },
                  ],
                  text: 'OAuth2 using SMART-on-FHIR profile (see http://docs.smarthealthit.org)',
                },
              ],
              extension: [
                { url: OAUTH_URIS, extension: ext.map(([url, valueUri]) => ({ url, valueUri })) },
              ],
              description:
                'SMART App Launch 2.2: send a bearer access token from the issuer in /.well-known/smart-configuration',
            },
            resource: [
              ...(r.resource ?? []).filter((x) => x.type !== 'AuditEvent'),
              AUDIT_EVENT_RESOURCE,
            ],
          },
    ),
  };
}

export interface MetadataDeps {
  upstream: Upstream;
  rewriter: UrlRewriter | undefined;
  smartConfiguration: SmartConfigurationSource;
  fhirBase: string;
  /** How long the backend's CapabilityStatement is reused (default 60 s). */
  cacheMs?: number;
}

/** `GET /fhir/metadata` (no token) and `GET /fhir/.well-known/smart-configuration` (no token). */
export function openEndpoints(deps: MetadataDeps): GatewayMiddleware {
  /** The CapabilityStatement as sent (about 0.7 MB from the built-in store: written once, not per request). */
  let cached: { at: number; text: string } | undefined;
  const ttl = deps.cacheMs ?? 60_000;
  return async function openEndpointsStep(ctx, next) {
    const get = ctx.method === 'GET' || ctx.method === 'HEAD';
    if (get && ctx.state.fhirPath === '.well-known/smart-configuration') {
      ctx.state.audit.subtype = 'smart-configuration';
      ctx.state.audit.action = 'R';
      ctx.body = await deps.smartConfiguration();
      ctx.set('Access-Control-Allow-Origin', '*');
      return;
    }
    if (!get || ctx.state.fhirPath !== 'metadata') {
      await next();
      return;
    }
    ctx.state.audit.subtype = 'capabilities';
    ctx.state.audit.action = 'R';
    if (cached === undefined || performance.now() - cached.at > ttl) {
      const res = await deps.upstream.request({
        method: 'GET',
        path: 'metadata',
        headers: { accept: 'application/fhir+json' },
        requestId: ctx.state.requestId,
      });
      let cs: CapabilityStatement;
      try {
        const text = res.body.toString('utf8');
        cs = JSON.parse(
          deps.rewriter === undefined ? text : deps.rewriter.toPublic(text),
        ) as CapabilityStatement;
      } catch {
        throw badGateway('the FHIR backend returned no CapabilityStatement');
      }
      if (
        res.status !== 200 ||
        (cs as { resourceType?: unknown }).resourceType !== 'CapabilityStatement'
      ) {
        throw badGateway('the FHIR backend returned no CapabilityStatement');
      }
      cached = {
        at: performance.now(),
        text: JSON.stringify(withSmartSecurity(cs, await deps.smartConfiguration(), deps.fhirBase)),
      };
    }
    ctx.type = FHIR_JSON;
    ctx.body = cached.text;
  };
}
