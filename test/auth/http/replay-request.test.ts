import assert from 'node:assert/strict';
import http, { type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readForm } from '../../../auth/http/read-form.js';
import { replayRequest } from '../../../auth/http/replay-request.js';

/** Reads a request body the way oidc-provider does (only while the stream is readable). */
async function readAgain(req: IncomingMessage): Promise<string | undefined> {
  if (!req.readable) return undefined;
  const chunks: Buffer[] = [];
  for await (const chunk of req.iterator({ destroyOnReturn: false })) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString();
}

describe('replayRequest (a consumed form body handed on as a readable request)', () => {
  it('gives the next reader the new body, with the method, URL and headers kept and content-length fixed', async () => {
    const seen: { first: string; again: string | undefined; headers: http.IncomingHttpHeaders }[] =
      [];
    const server = http.createServer((req, res) => {
      void (async () => {
        const form = await readForm(req, 1024);
        form.set('client_id', 'app-1');
        const replay = replayRequest(req, Buffer.from(form.toString()));
        assert.equal(req.readable, false, 'the original is consumed');
        assert.equal(replay.method, 'POST');
        assert.equal(replay.url, '/auth/token?x=1');
        seen.push({
          first: form.toString(),
          again: await readAgain(replay),
          headers: replay.headers,
        });
        res.end('ok');
      })();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const res = await fetch(`http://127.0.0.1:${port}/auth/token?x=1`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-extra': 'kept' },
        body: 'grant_type=refresh_token&refresh_token=abc',
      });
      assert.equal(await res.text(), 'ok');
      const [s] = seen;
      assert.ok(s !== undefined);
      assert.equal(s.again, 'grant_type=refresh_token&refresh_token=abc&client_id=app-1');
      assert.equal(s.headers['content-length'], String(Buffer.byteLength(s.again)));
      assert.equal(s.headers['x-extra'], 'kept');
      assert.equal(s.headers['content-type'], 'application/x-www-form-urlencoded');
    } finally {
      server.close();
    }
  });
});
