// A real HTTP proxy (the npm `proxy` package, which answers CONNECT and plain requests) for tests, run as its own
// process on 127.0.0.1. It prints `listening <port>`, then one line per request it is asked to carry:
// `CONNECT <host:port>` for a tunnel, `<METHOD> <absolute URL>` for a forwarded request. With `--auth USER:PASS`
// it carries only requests with those Basic proxy credentials; the others get 407 Proxy Authentication Required.
import http from 'node:http';
import { createProxy } from 'proxy';

const server = http.createServer();
// Registered before createProxy's own listeners, so each line is printed before the proxy acts on the request.
server.on('connect', (req) => process.stdout.write(`CONNECT ${req.url}\n`));
server.on('request', (req) => process.stdout.write(`${req.method} ${req.url}\n`));
const proxy = createProxy(server);
const auth = process.argv[process.argv.indexOf('--auth') + 1];
if (process.argv.includes('--auth')) {
  const expected = `Basic ${Buffer.from(auth).toString('base64')}`;
  proxy.authenticate = (req) => req.headers['proxy-authorization'] === expected;
}
server.listen(0, '127.0.0.1', () => process.stdout.write(`listening ${server.address().port}\n`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
