import { z } from 'zod';

/**
 * The store's wiring, set by the composition root when it starts the store thread, or by whoever
 * runs store/main.ts as a process (internal, not operator settings): where to listen, the shared
 * secret of the trusted-caller protocol, and the public FHIR base URL.
 */
export interface StoreProcessEnv {
  /** `HEARTH_STORE_SOCKET`: a Unix socket path to listen on. */
  socket: string | undefined;
  /** `HEARTH_STORE_PORT`: loopback port when no socket is given (0: any free port). */
  port: number;
  /** `HEARTH_INTERNAL_SECRET`: protocol headers are trusted only with it. */
  internalSecret: string | undefined;
  /** `HEARTH_FHIR_BASE_URL`: the public FHIR base used in emitted URLs. */
  fhirBaseUrl: string | undefined;
}

const schema = z.object({
  HEARTH_STORE_SOCKET: z.string().optional(),
  HEARTH_STORE_PORT: z
    .string()
    .regex(/^\d{1,5}$/, 'must be a port number')
    .optional(),
  HEARTH_INTERNAL_SECRET: z.string().optional(),
  HEARTH_FHIR_BASE_URL: z
    .string()
    .refine((v) => v === '' || URL.canParse(v), 'must be an absolute URL')
    .optional(),
});

const blank = (v: string | undefined) => (v === undefined || v === '' ? undefined : v);

export function parseStoreProcessEnv(env: NodeJS.ProcessEnv): StoreProcessEnv {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new Error(`invalid store process environment: ${lines.join('; ')}`);
  }
  const e = parsed.data;
  return {
    socket: blank(e.HEARTH_STORE_SOCKET),
    port: Number(e.HEARTH_STORE_PORT ?? 0),
    internalSecret: blank(e.HEARTH_INTERNAL_SECRET),
    fhirBaseUrl: blank(e.HEARTH_FHIR_BASE_URL),
  };
}
