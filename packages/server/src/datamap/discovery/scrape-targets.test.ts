import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { EXPOSITION_ACCEPT_HEADER } from './exposition.js';
import { discoveryNames } from './discovery-names.js';
import { scrapeTargets } from './scrape-targets.js';

type Handler = (request: IncomingMessage, response: ServerResponse) => void;

const servers: { close(): Promise<void> }[] = [];

/** A real HTTP server on 127.0.0.1 playing a scrape target; records the requests it got. */
async function serve(handler: Handler): Promise<{ url: string; requests: IncomingMessage[] }> {
  const requests: IncomingMessage[] = [];
  const server = createServer((request, response) => {
    requests.push(request);
    handler(request, response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push({
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`, requests };
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

const PROMETHEUS_TEXT = 'text/plain; version=0.0.4; charset=utf-8';
const OPENMETRICS = 'application/openmetrics-text; version=1.0.0; charset=utf-8';

function exposition(contentType: string, text: string): Handler {
  return (_request, response) => response.writeHead(200, { 'content-type': contentType }).end(text);
}

const names = discoveryNames();

const NEWSLETTER = [
  '# HELP transmit Data sent to other services.',
  '# TYPE transmit gauge',
  'transmit{team="growth",service="newsletter",to_service="mailer",data_type="user.email"} 1',
  'transmit{team="growth",service="newsletter",to_service="mailer",data_type="user.name"} 1',
  '# TYPE store gauge',
  'store{team="growth",service="newsletter",data_type="user.email"} 1',
  '# A comment, and a series of another kind',
  'process_cpu_seconds_total 12.5',
  'client{team="growth",address="https://news.example",protocol="https"} 1',
  '',
].join('\n');

describe('scrapeTargets', () => {
  it('maps a Prometheus text exposition and sends the exposition Accept header', async () => {
    const target = await serve(exposition(PROMETHEUS_TEXT, NEWSLETTER));
    const { observations, failures } = await scrapeTargets([target.url], names);
    expect(failures).toEqual([]);
    expect(observations).toEqual([
      {
        kind: 'transmit',
        team: 'growth',
        system: 'newsletter',
        target: 'mailer',
        dataType: 'user.email',
        protocol: '',
      },
      {
        kind: 'transmit',
        team: 'growth',
        system: 'newsletter',
        target: 'mailer',
        dataType: 'user.name',
        protocol: '',
      },
      {
        kind: 'store',
        team: 'growth',
        system: 'newsletter',
        target: '',
        dataType: 'user.email',
        protocol: '',
      },
      {
        kind: 'client',
        team: 'growth',
        system: '',
        target: 'https://news.example',
        dataType: '',
        protocol: 'https',
      },
    ]);
    expect(target.requests[0]?.headers.accept).toBe(EXPOSITION_ACCEPT_HEADER);
    expect(target.requests[0]?.url).toBe('/metrics');
  });

  it('reads an OpenMetrics counter under its _total name and ignores _created', async () => {
    const target = await serve(
      exposition(
        OPENMETRICS,
        [
          '# TYPE transmit counter',
          '# HELP transmit Messages sent.',
          'transmit_total{team="ops",service="billing",to_service="ledger",data_type="payment.iban"} 42',
          'transmit_created{team="ops",service="billing",to_service="ledger",data_type="payment.iban"} 1.7e9',
          '# TYPE store gauge',
          'store{service="ledger",data_type="payment.iban"} 1',
          '# EOF',
          '',
        ].join('\n'),
      ),
    );
    const { observations, failures } = await scrapeTargets([target.url], names);
    expect(failures).toEqual([]);
    expect(observations).toEqual([
      {
        kind: 'transmit',
        team: 'ops',
        system: 'billing',
        target: 'ledger',
        dataType: 'payment.iban',
        protocol: '',
      },
      { kind: 'store', team: '', system: 'ledger', target: '', dataType: 'payment.iban', protocol: '' },
    ]);
  });

  it('holds OpenMetrics to its own rules, naming the target and the line', async () => {
    // Valid 0.0.4, but OpenMetrics requires # EOF.
    const withoutComment = NEWSLETTER.split('\n')
      .filter((line) => !line.startsWith('# A'))
      .join('\n');
    const target = await serve(exposition(OPENMETRICS, withoutComment));
    const { observations, failures } = await scrapeTargets([target.url], names);
    expect(observations).toEqual([]);
    expect(failures).toEqual([
      {
        target: target.url,
        message: `Scraping ${target.url} failed: invalid OpenMetrics exposition, line 9: missing # EOF at the end.`,
      },
    ]);
  });

  it('reports a failing target and still reads the others', async () => {
    const good = await serve(exposition(PROMETHEUS_TEXT, NEWSLETTER));
    const other = await serve(exposition(PROMETHEUS_TEXT, 'store{service="crm",data_type="user.name"} 1\n'));
    const broken = await serve(
      exposition(PROMETHEUS_TEXT, 'store{service="crm",data_type="x"} 1\nstore{service="crm} 1\n'),
    );
    const erroring = await serve((_request, response) => response.writeHead(503).end('busy'));
    const gone = await serve(() => undefined);
    const goneUrl = gone.url;
    await servers.pop()?.close();
    const targets = [
      broken.url,
      good.url,
      erroring.url,
      goneUrl,
      'not a url',
      'file:///etc/passwd',
      other.url,
    ];

    const { observations, failures } = await scrapeTargets(targets, names);

    expect(observations.map((o) => `${o.kind} ${o.system} ${o.dataType}`)).toEqual([
      'transmit newsletter user.email',
      'transmit newsletter user.name',
      'store newsletter user.email',
      'client  ',
      'store crm user.name',
    ]);
    expect(failures.map((failure) => failure.target)).toEqual([
      broken.url,
      erroring.url,
      goneUrl,
      'not a url',
      'file:///etc/passwd',
    ]);
    const [syntax, status, refused, invalid, scheme] = failures.map((failure) => failure.message);
    expect(syntax).toBe(
      `Scraping ${broken.url} failed: invalid Prometheus text exposition, line 2: unterminated label value.`,
    );
    expect(status).toBe(`Scraping ${erroring.url} failed: the target answered HTTP 503.`);
    expect(refused).toContain(`Scraping ${goneUrl} failed:`);
    expect(refused).toMatch(/ECONNREFUSED/);
    expect(invalid).toBe('Scrape target "not a url" is not a valid URL.');
    expect(scheme).toContain('only http and https');
  });

  it('deduplicates observations across targets', async () => {
    const a = await serve(exposition(PROMETHEUS_TEXT, NEWSLETTER));
    const b = await serve(exposition(PROMETHEUS_TEXT, NEWSLETTER));
    const { observations } = await scrapeTargets([a.url, b.url], names);
    expect(observations).toHaveLength(4);
  });

  it('times out a slow target without holding up the others', async () => {
    const slow = await serve(() => undefined);
    const fast = await serve(exposition(PROMETHEUS_TEXT, NEWSLETTER));
    const { observations, failures } = await scrapeTargets([slow.url, fast.url], names, { timeoutMs: 200 });
    expect(observations).toHaveLength(4);
    expect(failures).toEqual([
      { target: slow.url, message: `Scraping ${slow.url} failed: no complete answer within 200 ms.` },
    ]);
  });

  it('fails a target whose exposition is larger than maxBytes, or than the parser limits', async () => {
    const target = await serve(exposition(PROMETHEUS_TEXT, NEWSLETTER));
    const bytes = await scrapeTargets([target.url], names, { maxBytes: 100 });
    expect(bytes.failures[0]?.message).toMatch(
      /more than the limit of 100$|larger than the limit of 100 bytes\.$/,
    );
    const samples = await scrapeTargets([target.url], names, { limits: { maxSamples: 2 } });
    expect(samples.failures[0]?.message).toContain('line 6: more than 2 samples');
  });

  it('fetches at most `concurrency` targets at a time', async () => {
    let active = 0;
    let peak = 0;
    const target = await serve((_request, response) => {
      active++;
      peak = Math.max(peak, active);
      setTimeout(() => {
        active--;
        response.writeHead(200, { 'content-type': PROMETHEUS_TEXT }).end(NEWSLETTER);
      }, 30);
    });
    const targets = Array.from({ length: 10 }, (_, n) => `${target.url}?n=${n}`);
    const { observations, failures } = await scrapeTargets(targets, names, { concurrency: 3 });
    expect(failures).toEqual([]);
    expect(observations).toHaveLength(4);
    expect(target.requests).toHaveLength(10);
    expect(peak).toBe(3);
  });

  it('returns nothing for no targets', async () => {
    expect(await scrapeTargets([], names)).toEqual({ observations: [], failures: [] });
  });
});
