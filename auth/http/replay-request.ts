import { IncomingMessage } from 'node:http';

/**
 * A request whose body was read here, as a fresh readable request carrying the same method, URL
 * and headers (content-length set to `body`), for oidc-provider to read the body itself. Handing it
 * the consumed original would make it fall back to `req.body` with a warning against upstream body
 * parsers.
 */
export function replayRequest(req: IncomingMessage, body: Buffer): IncomingMessage {
  const copy = new IncomingMessage(req.socket);
  copy.method = req.method;
  copy.url = req.url;
  copy.httpVersion = req.httpVersion;
  copy.httpVersionMajor = req.httpVersionMajor;
  copy.httpVersionMinor = req.httpVersionMinor;
  copy.headers = { ...req.headers, 'content-length': String(body.length) };
  copy.rawHeaders = [...req.rawHeaders];
  // The whole body is here: ending must not count as an aborted request (that destroys the socket).
  copy.complete = true;
  copy.push(body);
  copy.push(null);
  return copy;
}
