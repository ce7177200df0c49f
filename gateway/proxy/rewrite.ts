/**
 * Base-URL rewriting for an external upstream: the upstream's own base becomes the public FHIR base
 * in responses (Location, Content-Location, links, fullUrl, absolute references), and the public
 * base becomes the upstream's in request bodies and queries.
 */
export interface UrlRewriter {
  readonly toPublic: (text: string) => string;
  readonly toUpstream: (text: string) => string;
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export function createUrlRewriter(publicBase: string, upstreamBase: string): UrlRewriter {
  const pub = publicBase.replace(/\/+$/, '');
  const up = upstreamBase.replace(/\/+$/, '');
  const upRe = new RegExp(`${escape(up)}(?=[/?#"]|$)`, 'g');
  const pubRe = new RegExp(`${escape(pub)}(?=[/?#"]|$)`, 'g');
  return {
    toPublic: (text) => (pub === up ? text : text.replace(upRe, pub)),
    toUpstream: (text) => (pub === up ? text : text.replace(pubRe, up)),
  };
}
