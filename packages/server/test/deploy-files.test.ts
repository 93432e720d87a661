import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createLethe } from '../src/server.js';
import { REPO_ROOT } from './support/lethe-process.js';
import { PROMETHEUS_BINARY, prometheusAvailability } from './support/prometheus.js';

/**
 * The files in deploy/ (docs/deploy.md): the compose file is complete and points at files that
 * exist; Prometheus scrapes Lethe where compose runs it; the alert rules and the Grafana
 * dashboard ask only for metrics Lethe exposes; promtool accepts the configuration, the rules and
 * the dashboard's queries. (`npm run image:test` builds and runs the image itself.)
 */
const DEPLOY = join(REPO_ROOT, 'deploy');
const read = (path: string) => readFileSync(join(DEPLOY, path), 'utf8');

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
}
const compose = parse(read('compose.yaml')) as {
  services: Record<string, ComposeService>;
  volumes: Record<string, unknown>;
};
const prometheusConfig = parse(read('prometheus/prometheus.yml')) as {
  rule_files: string[];
  scrape_configs: Array<{
    job_name: string;
    metrics_path: string;
    static_configs: Array<{ targets: string[] }>;
  }>;
};
const alerts = parse(read('prometheus/alerts.yml')) as {
  groups: Array<{ rules: Array<{ alert: string; expr: string }> }>;
};
const dashboard = JSON.parse(read('grafana/dashboards/lethe.json')) as {
  panels: Array<{ title: string; targets?: Array<{ expr: string }> }>;
};
const dashboardQueries = dashboard.panels.flatMap((panel) =>
  (panel.targets ?? []).map((target) => ({ panel: panel.title, expr: target.expr })),
);

/** The metric families Lethe's /metrics declares (`# TYPE name kind`), from a real server. */
const exposed = new Map<string, string>();
const scratch = mkdtempSync(join(tmpdir(), 'lethe-deploy-files-'));
beforeAll(async () => {
  const lethe = await createLethe({ dataDir: scratch, rateLimit: false });
  try {
    const text = (await lethe.app.inject({ method: 'GET', url: '/metrics' })).body;
    for (const match of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) exposed.set(match[1]!, match[2]!);
  } finally {
    await lethe.close();
  }
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** The Lethe metric names a PromQL expression reads; a histogram's series name their family. */
function metricNames(expr: string): string[] {
  return [...expr.matchAll(/\blethe_[a-z0-9_]+/g)].map(([name]) => name);
}
function family(name: string): string | undefined {
  if (exposed.has(name)) return name;
  const histogram = /^(.*)_(bucket|sum|count)$/.exec(name)?.[1];
  return histogram && exposed.get(histogram) === 'histogram' ? histogram : undefined;
}

describe('deploy/compose.yaml', () => {
  it('runs Lethe, PostgreSQL, NATS with JetStream and Prometheus', () => {
    expect(Object.keys(compose.services)).toEqual(
      expect.arrayContaining(['lethe', 'postgres', 'nats', 'prometheus', 'grafana']),
    );
    const lethe = compose.services['lethe']!;
    expect(lethe.build).toEqual({ context: '..', dockerfile: 'Dockerfile' });
    expect(existsSync(resolve(DEPLOY, lethe.build!.context, lethe.build!.dockerfile))).toBe(true);
    expect(lethe.environment?.['DATABASE_URL']).toMatch(/^postgres:\/\/lethe:.*@postgres:5432\/lethe$/);
    expect(lethe.environment?.['NATS_URL']).toBe('nats://nats:4222');
    expect(lethe.volumes).toContain('lethe-data:/data');
    expect(compose.services['nats']!.command).toContain('--jetstream');
  });

  it('mounts only files that exist and volumes it declares', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      for (const volume of service.volumes ?? []) {
        const source = volume.split(':')[0]!;
        if (source.startsWith('.')) expect(existsSync(join(DEPLOY, source)), `${name}: ${source}`).toBe(true);
        else expect(Object.keys(compose.volumes), `${name}: ${source}`).toContain(source);
      }
    }
  });

  it("has Prometheus scrape Lethe's /metrics on the port Lethe listens on, with the alert rules loaded", () => {
    const [scrape] = prometheusConfig.scrape_configs;
    expect(scrape).toMatchObject({ job_name: 'lethe', metrics_path: '/metrics' });
    const dockerfile = readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8');
    const port = /^EXPOSE (\d+)$/m.exec(dockerfile)?.[1];
    expect(scrape!.static_configs[0]!.targets).toEqual([`lethe:${port}`]);
    expect(compose.services['lethe']!.ports).toContain(`127.0.0.1:${port}:${port}`);
    const mounts = compose.services['prometheus']!.volumes ?? [];
    for (const ruleFile of prometheusConfig.rule_files) {
      expect(mounts).toContain(`./prometheus/alerts.yml:${ruleFile}:ro`);
    }
  });
});

describe('alert rules and the Grafana dashboard', () => {
  it('read only metrics that /metrics exposes', () => {
    expect(exposed.size).toBeGreaterThan(10);
    const queries = [
      ...alerts.groups.flatMap((group) =>
        group.rules.map((rule) => ({ where: rule.alert, expr: rule.expr })),
      ),
      ...dashboardQueries.map((query) => ({ where: query.panel, expr: query.expr })),
    ];
    const used = new Set<string>();
    for (const { where, expr } of queries) {
      for (const name of metricNames(expr)) {
        expect(family(name), `${where}: ${name}`).toBeDefined();
        used.add(family(name)!);
      }
    }
    // The dashboard shows every family Lethe exposes: a new metric is a new panel.
    expect([...exposed.keys()].filter((name) => name.startsWith('lethe_') && !used.has(name))).toEqual([]);
  });

  const promtoolMissing = prometheusAvailability();
  const promtool = join(dirname(PROMETHEUS_BINARY), 'promtool');

  it.skipIf(promtoolMissing !== undefined)('pass promtool: the configuration, the rules, the queries', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lethe-promtool-'));
    try {
      // The configuration names the rules where compose mounts them; here they are beside it.
      const config = read('prometheus/prometheus.yml').replace(
        '/etc/prometheus/alerts.yml',
        join(DEPLOY, 'prometheus/alerts.yml'),
      );
      writeFileSync(join(dir, 'prometheus.yml'), config);
      execFileSync(promtool, ['check', 'config', join(dir, 'prometheus.yml')], { stdio: 'pipe' });
      // The dashboard's queries, with Grafana's variables filled in, as recording rules: promtool parses them.
      const rules = {
        groups: [
          {
            name: 'dashboard',
            rules: dashboardQueries.map((query, index) => ({
              record: `dashboard_query_${index}`,
              expr: query.expr
                .replaceAll('$__rate_interval', '5m')
                .replaceAll('$job', 'lethe')
                .replaceAll('$instance', '.*'),
            })),
          },
        ],
      };
      writeFileSync(join(dir, 'dashboard-rules.yml'), JSON.stringify(rules));
      execFileSync(promtool, ['check', 'rules', join(dir, 'dashboard-rules.yml')], { stdio: 'pipe' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('deploy/lethe.service', () => {
  const analyze = spawnSync('systemd-analyze', ['--version']);
  it.skipIf(analyze.error !== undefined)('passes systemd-analyze verify without a warning', () => {
    // verify exits 0 on unknown keys and bad values: it only warns, so the output must be empty.
    const result = spawnSync('systemd-analyze', ['verify', join(DEPLOY, 'lethe.service')], {
      encoding: 'utf8',
    });
    expect(result.status).toBe(0);
    expect(`${result.stdout}${result.stderr}`).toBe('');
  });

  it('runs lethe serve as the lethe user on its state directory, hardened', () => {
    const unit = read('lethe.service');
    for (const line of [
      'User=lethe',
      'StateDirectory=lethe',
      'Environment=LETHE_DATA_DIR=/var/lib/lethe',
      'NoNewPrivileges=yes',
      'ProtectSystem=strict',
      'ReadWritePaths=/var/lib/lethe',
      'PrivateTmp=yes',
    ])
      expect(unit.split('\n')).toContain(line);
    expect(unit).toMatch(/^ExecStart=\S*node \S+\/bin\/lethe\.js serve$/m);
  });
});
