import { Counter, Registry, type RegistryContentType } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { declareDataMapMetrics } from '@lethe/client/prometheus';

/** The series lines of an exposition (no # lines), sorted. */
async function seriesOf(registry: Registry<RegistryContentType>): Promise<string[]> {
  const text = await registry.metrics();
  return text
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .sort();
}

const declaration = {
  team: 'growth',
  service: 'newsletter',
  transmits: [{ to: 'mailer', dataTypes: ['user.email', 'user.name'] }],
  stores: ['user.email'],
  clients: [{ address: 'https://news.example', protocol: 'https' }],
};

describe('declareDataMapMetrics', () => {
  it('exposes one gauge series of value 1 per declared fact', async () => {
    const registry = new Registry();
    declareDataMapMetrics(registry, declaration);
    expect(await seriesOf(registry)).toEqual([
      'client{team="growth",address="https://news.example",protocol="https"} 1',
      'store{team="growth",service="newsletter",data_type="user.email"} 1',
      'transmit{team="growth",service="newsletter",to_service="mailer",data_type="user.email"} 1',
      'transmit{team="growth",service="newsletter",to_service="mailer",data_type="user.name"} 1',
    ]);
    const text = await registry.metrics();
    expect(text).toContain('# TYPE transmit gauge');
    expect(text).toMatch(/# HELP store \S/);
    expect(text).toMatch(/# HELP client \S/);
  });

  it('adds and removes series at runtime', async () => {
    const registry = new Registry();
    const metrics = declareDataMapMetrics(registry, declaration);
    metrics.removeTransmit('mailer', ['user.name']);
    metrics.removeStore('user.email');
    metrics.removeClient('https://news.example', 'https');
    metrics.addTransmit('analytics', ['user.id']);
    metrics.addStore('user.id');
    metrics.addClient('smtp.example:25', 'smtp');
    expect(await seriesOf(registry)).toEqual([
      'client{team="growth",address="smtp.example:25",protocol="smtp"} 1',
      'store{team="growth",service="newsletter",data_type="user.id"} 1',
      'transmit{team="growth",service="newsletter",to_service="analytics",data_type="user.id"} 1',
      'transmit{team="growth",service="newsletter",to_service="mailer",data_type="user.email"} 1',
    ]);

    metrics.removeTransmit('mailer');
    metrics.removeTransmit('analytics');
    metrics.removeTransmit('nobody');
    expect((await seriesOf(registry)).filter((line) => line.startsWith('transmit'))).toEqual([]);
    expect(await registry.metrics()).toContain('# TYPE transmit gauge');
  });

  it('applies the prefix to the metric names', async () => {
    const registry = new Registry();
    declareDataMapMetrics(registry, { team: 't', service: 's', stores: ['x'] }, { prefix: 'privacy_' });
    expect(await seriesOf(registry)).toEqual(['privacy_store{team="t",service="s",data_type="x"} 1']);
  });

  it('lets several services share one registry', async () => {
    const registry = new Registry();
    declareDataMapMetrics(registry, { team: 't', service: 'a', stores: ['x'] });
    const b = declareDataMapMetrics(registry, { team: 't', service: 'b', stores: ['x'] });
    b.removeStore('x');
    expect(await seriesOf(registry)).toEqual(['store{team="t",service="a",data_type="x"} 1']);
  });

  it('writes OpenMetrics when the registry does', async () => {
    const registry = new Registry<RegistryContentType>();
    registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
    declareDataMapMetrics(registry, { team: 't', service: 's', stores: ['x'] });
    const text = await registry.metrics();
    expect(text).toContain('\nstore{team="t",service="s",data_type="x"} 1\n');
    expect(text.endsWith('\n# EOF\n')).toBe(true);
  });

  it('rejects empty names and a clashing metric', () => {
    expect(() => declareDataMapMetrics(new Registry(), { team: 't', service: '' })).toThrow(/service/);
    expect(() => declareDataMapMetrics(new Registry(), { team: 't', service: 's', stores: [''] })).toThrow(
      /data type/,
    );
    expect(() =>
      declareDataMapMetrics(new Registry(), {
        team: 't',
        service: 's',
        clients: [{ address: 'a', protocol: '' }],
      }),
    ).toThrow(/protocol/);
    const registry = new Registry();
    new Counter({ name: 'store', help: 'Something else.', registers: [registry] });
    expect(() => declareDataMapMetrics(registry, { team: 't', service: 's' })).toThrow(/not a gauge/);
  });
});
