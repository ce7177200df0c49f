import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Context } from 'koa';
import { setPageHeaders } from './security-headers.js';

/**
 * The launch UI's files (stylesheet, sample app, the fhirclient browser build), read once into
 * memory from a fixed list, so no request path ever reaches the file system.
 */

interface Asset {
  readonly body: Buffer;
  readonly type: string;
}

const TYPES: Readonly<Record<string, string>> = {
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** `launch-ui/public`, both from the sources (tsx) and from `dist/launch-ui` after a build. */
function publicDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const candidates = [
    path.join(here, '..', 'public'),
    path.join(here, '..', '..', '..', 'launch-ui', 'public'),
  ];
  const found = candidates.find((c) => existsSync(path.join(c, 'hearth.css')));
  if (found === undefined)
    throw new Error(`launch-ui: public files not found (looked in ${candidates.join(', ')})`);
  return found;
}

function fhirClientBuild(): string {
  const pkg = createRequire(import.meta.url).resolve('fhirclient/package.json');
  return path.join(path.dirname(pkg), 'build', 'fhir-client.pure.min.js');
}

const ROUTES: readonly (readonly [string, string])[] = [
  ['/ui/static/hearth.css', 'hearth.css'],
  ['/ui/static/favicon.svg', 'favicon.svg'],
  ['/ui/static/home.js', 'home.js'],
  ['/apps/sample/', 'apps/sample/index.html'],
  ['/apps/sample/index.html', 'apps/sample/index.html'],
  ['/apps/sample/launch.html', 'apps/sample/launch.html'],
  ['/apps/sample/app.js', 'apps/sample/app.js'],
  ['/apps/sample/chart.js', 'apps/sample/chart.js'],
  ['/apps/sample/launch.js', 'apps/sample/launch.js'],
  ['/apps/sample/sample.css', 'apps/sample/sample.css'],
];

export type AssetServer = (ctx: Context) => boolean;

/** Serves a known asset for GET/HEAD and returns true, or returns false for any other request. */
export function createAssetServer(): AssetServer {
  const dir = publicDir();
  const assets = new Map<string, Asset>();
  for (const [url, file] of ROUTES) {
    assets.set(url, {
      body: readFileSync(path.join(dir, file)),
      type: TYPES[path.extname(file)] ?? 'application/octet-stream',
    });
  }
  assets.set('/apps/sample/vendor/fhir-client.js', {
    body: readFileSync(fhirClientBuild()),
    type: TYPES['.js'] ?? '',
  });
  return (ctx) => {
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return false;
    const asset = assets.get(ctx.path);
    if (asset === undefined) return false;
    if (asset.type.startsWith('text/html')) setPageHeaders(ctx);
    else {
      ctx.set('X-Content-Type-Options', 'nosniff');
      ctx.set('Cache-Control', 'no-cache');
    }
    ctx.type = asset.type;
    ctx.body = asset.body;
    return true;
  };
}
