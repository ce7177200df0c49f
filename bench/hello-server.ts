import http from 'node:http';

/** The ceiling: a bare node:http server answering a small JSON body. */
const body = '{"message":"hello!"}';
const server = http.createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
  res.end(body);
});
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => {
  const addr = server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
  process.send?.({ ready: true, address: `http://127.0.0.1:${port}` });
});
process.once('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
});
